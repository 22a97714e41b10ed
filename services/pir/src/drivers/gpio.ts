import type { Logger } from "@picket/runtime";
import { sysfsGpioNumber } from "../gpio-numbering.js";
import type { PirDriver } from "./driver.js";

/** A PIR on a GPIO pin through onoff (sysfs, interrupts on both edges; no polling). */
export function createGpioDriver(deps: { bcmPin: number; log: Logger; sysRoot?: string }): PirDriver {
  type Gpio = import("onoff").Gpio;
  let gpio: Gpio | undefined;
  return {
    name: "gpio",
    async start(onLevel) {
      const { Gpio } = await import("onoff");
      if (!Gpio.accessible) throw new Error("GPIO is not accessible here: give the container the gpiochip device and /sys/class/gpio");
      const number = sysfsGpioNumber(deps.bcmPin, deps.sysRoot);
      gpio = new Gpio(number, "in", "both");
      const initial = gpio.readSync() === 1 ? 1 : 0;
      gpio.watch((err, value) => {
        if (err !== null && err !== undefined) {
          deps.log.error({ err }, "GPIO watch failed");
          return;
        }
        onLevel(value === 1 ? 1 : 0);
      });
      deps.log.info({ bcmPin: deps.bcmPin, sysfs: number, initial }, "PIR on GPIO");
      return { initial };
    },
    async stop() {
      gpio?.unwatchAll();
      gpio?.unexport();
    },
  };
}
