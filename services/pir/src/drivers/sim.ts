import { PirInject, subjects } from "@picket/contracts";
import { subscribeJson, type Logger, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";
import { Hcsr501Model, type Hcsr501Options } from "../hcsr501.js";
import type { PirDriver } from "./driver.js";

/** How long a warm body stays in view for one SIGUSR2 (`signal: true`), ms. */
export const SIGNAL_PULSE_MS = 300;

/**
 * The simulated PIR: what a sensor would see arrives on `picket.<d>.pir.inject`
 * (`{"level":1}` warm body in view, `{"level":0}` gone, `{"pulseMs":2000}` both), from tests,
 * `npm run pir -- pulse`, the web API or the camera's test scene. An emulated HC-SR501 turns
 * that into its output pin, with its hold time, trigger mode and block time, so demos and
 * tests behave like the real part.
 *
 * With `signal` (PICKET_PIR_SIM_SIGNAL), a SIGUSR2 to the process is a pulse of
 * {@link SIGNAL_PULSE_MS} too: it works while the bus is down, which fault tests need.
 */
export function createSimDriver(deps: { nc: NatsConnection; device: string; log: Logger; metrics: ServiceMetrics; sensor: Hcsr501Options; signal?: boolean }): PirDriver {
  let sub: Subscription | undefined;
  let model: Hcsr501Model | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const pulse = (ms: number) => {
    model?.stimulus(true);
    const t = setTimeout(() => {
      timers.delete(t);
      model?.stimulus(false);
    }, ms);
    timers.add(t);
  };
  const onSignal = () => pulse(SIGNAL_PULSE_MS);
  return {
    name: "sim",
    async start(onLevel) {
      const log = deps.log.child({ module: "pir-sim" });
      const sensor = new Hcsr501Model({ ...deps.sensor, warmupNoise: false }, onLevel);
      model = sensor;
      sub = subscribeJson(
        deps.nc,
        subjects.pirInject(deps.device),
        PirInject,
        (cmd, msg) => {
          if ("level" in cmd) sensor.stimulus(cmd.level === 1);
          else pulse(cmd.pulseMs);
          if (msg.reply !== undefined && msg.reply !== "") msg.respond(JSON.stringify({ ok: true }));
        },
        { log, metrics: deps.metrics },
      );
      if (deps.signal === true) process.on("SIGUSR2", onSignal);
      log.info(
        { subject: subjects.pirInject(deps.device), holdMs: deps.sensor.holdMs, trigger: deps.sensor.trigger, ...(deps.signal === true ? { signal: "SIGUSR2", signalPulseMs: SIGNAL_PULSE_MS } : {}) },
        "simulated PIR (an emulated HC-SR501): inject what it sees over NATS",
      );
      return { initial: 0 };
    },
    async stop() {
      process.off("SIGUSR2", onSignal);
      sub?.unsubscribe();
      for (const t of timers) clearTimeout(t);
      model?.dispose();
    },
  };
}
