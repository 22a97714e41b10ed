import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GpioNumberingError, sysfsGpioNumber } from "./gpio-numbering.js";

const roots: string[] = [];

/** A fake /sys/class/gpio with the given chips (plus the export files real sysfs has). */
function sysfs(chips: { base: number; ngpio: number; label: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), "picket-gpio-"));
  roots.push(root);
  writeFileSync(join(root, "export"), "");
  writeFileSync(join(root, "unexport"), "");
  for (const c of chips) {
    const dir = join(root, `gpiochip${c.base}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "base"), `${c.base}\n`);
    writeFileSync(join(dir, "ngpio"), `${c.ngpio}\n`);
    writeFileSync(join(dir, "label"), `${c.label}\n`);
  }
  return root;
}

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function numberingError(fn: () => unknown): GpioNumberingError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GpioNumberingError);
    return err as GpioNumberingError;
  }
  throw new Error("expected a GpioNumberingError");
}

describe("sysfsGpioNumber", () => {
  it("Pi 4 on a 6.6 kernel: offsets from the bcm2711 controller at 512", () => {
    const root = sysfs([
      { base: 512, ngpio: 58, label: "pinctrl-bcm2711" },
      { base: 570, ngpio: 8, label: "raspberrypi-exp-gpio" },
    ]);
    expect(sysfsGpioNumber(17, root)).toBe(529);
  });

  it("Pi 5: finds the RP1 controller among the SoC's other chips", () => {
    const root = sysfs([
      { base: 512, ngpio: 32, label: "gpio-brcmstb@107d508500" },
      { base: 544, ngpio: 4, label: "gpio-brcmstb@107d508520" },
      { base: 548, ngpio: 17, label: "gpio-brcmstb@107d517c00" },
      { base: 565, ngpio: 6, label: "gpio-brcmstb@107d517c20" },
      { base: 571, ngpio: 54, label: "pinctrl-rp1" },
    ]);
    expect(sysfsGpioNumber(17, root)).toBe(588);
    expect(sysfsGpioNumber(0, root)).toBe(571);
  });

  it("an older kernel: the controller at base 0", () => {
    const root = sysfs([
      { base: 0, ngpio: 54, label: "pinctrl-bcm2835" },
      { base: 504, ngpio: 8, label: "raspberrypi-exp-gpio" },
    ]);
    expect(sysfsGpioNumber(4, root)).toBe(4);
  });

  it("another board: falls back to the chip with the lowest base", () => {
    const root = sysfs([
      { base: 400, ngpio: 32, label: "gpio-b" },
      { base: 300, ngpio: 32, label: "gpio-a" },
    ]);
    expect(sysfsGpioNumber(5, root)).toBe(305);
  });

  it("rejects a pin the chip does not have, naming the chip", () => {
    const root = sysfs([{ base: 0, ngpio: 28, label: "pinctrl-bcm2835" }]);
    expect(numberingError(() => sysfsGpioNumber(30, root)).message).toContain("gpiochip0");
  });

  it.each([-1, 54, 1.5, Number.NaN])("rejects BCM pin %s before touching sysfs", (pin) => {
    expect(numberingError(() => sysfsGpioNumber(pin, "/nonexistent")).message).toContain("out of range");
  });

  it("explains a missing sysfs GPIO directory", () => {
    const message = numberingError(() => sysfsGpioNumber(17, join(tmpdir(), "picket-no-such-dir"))).message;
    expect(message).toContain("CONFIG_GPIO_SYSFS");
  });

  it("says so when there is no gpiochip", () => {
    expect(numberingError(() => sysfsGpioNumber(17, sysfs([]))).message).toContain("no gpiochip");
  });

  it("reports a chip whose files cannot be read as a GpioNumberingError", () => {
    const root = sysfs([{ base: 512, ngpio: 58, label: "pinctrl-bcm2711" }]);
    mkdirSync(join(root, "gpiochip600"));
    expect(numberingError(() => sysfsGpioNumber(17, root)).message).toContain("gpiochip600");
  });

  it("reports an unreadable base as a GpioNumberingError", () => {
    const root = sysfs([{ base: 512, ngpio: 58, label: "pinctrl-bcm2711" }]);
    writeFileSync(join(root, "gpiochip512", "base"), "garbage\n");
    numberingError(() => sysfsGpioNumber(17, root));
  });
});
