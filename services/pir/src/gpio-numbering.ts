import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** gpiochip labels of the Raspberry Pi's main GPIO controller, newest first (Pi 5 uses RP1). */
const PI_LABELS = ["pinctrl-rp1", "pinctrl-bcm2712", "pinctrl-bcm2711", "pinctrl-bcm2835"];

export class GpioNumberingError extends Error {
  override readonly name = "GpioNumberingError";
}

/**
 * The sysfs number of a BCM pin. Kernels since 6.6 no longer put the Pi's controller at base
 * 0 (it is often 512 or 571), so the base is read from the gpiochip whose label is the Pi's
 * controller. Falls back to the lowest base when no label matches (other boards).
 */
export function sysfsGpioNumber(bcmPin: number, sysRoot = "/sys/class/gpio"): number {
  if (!Number.isInteger(bcmPin) || bcmPin < 0 || bcmPin > 53) throw new GpioNumberingError(`BCM pin ${bcmPin} is out of range 0–53`);
  let entries: string[];
  try {
    entries = readdirSync(sysRoot).filter((e) => e.startsWith("gpiochip"));
  } catch {
    throw new GpioNumberingError(`${sysRoot} is not readable: is sysfs GPIO available (CONFIG_GPIO_SYSFS) and /sys mounted?`);
  }
  const chips = entries.map((name) => {
    const read = (f: string) => {
      try {
        return readFileSync(join(sysRoot, name, f), "utf8").trim();
      } catch {
        throw new GpioNumberingError(`${join(sysRoot, name, f)} is not readable`);
      }
    };
    return { name, label: read("label"), base: Number(read("base")), ngpio: Number(read("ngpio")) };
  });
  if (chips.length === 0) throw new GpioNumberingError(`no gpiochip in ${sysRoot}`);
  const pi = PI_LABELS.map((l) => chips.find((c) => c.label === l)).find((c) => c !== undefined);
  const chip = pi ?? [...chips].sort((a, b) => a.base - b.base)[0];
  if (chip === undefined || !Number.isInteger(chip.base)) throw new GpioNumberingError("gpiochip base unreadable");
  if (bcmPin >= chip.ngpio) throw new GpioNumberingError(`BCM pin ${bcmPin} is beyond ${chip.name} (${chip.ngpio} lines)`);
  return chip.base + bcmPin;
}
