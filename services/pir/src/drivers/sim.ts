import { PirInject, subjects } from "@picket/contracts";
import { subscribeJson, type Logger, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";
import type { PirDriver } from "./driver.js";

/**
 * The simulated PIR: levels and pulses arrive on `picket.<d>.pir.inject`
 * (`{"level":1}`, `{"pulseMs":2000}`), from tests, `npm run pir -- pulse` or the web API.
 */
export function createSimDriver(deps: { nc: NatsConnection; device: string; log: Logger; metrics: ServiceMetrics }): PirDriver {
  let sub: Subscription | undefined;
  const timers = new Set<NodeJS.Timeout>();
  return {
    name: "sim",
    async start(onLevel) {
      const log = deps.log.child({ module: "pir-sim" });
      sub = subscribeJson(
        deps.nc,
        subjects.pirInject(deps.device),
        PirInject,
        (cmd, msg) => {
          if ("level" in cmd) {
            onLevel(cmd.level);
          } else {
            onLevel(1);
            const t = setTimeout(() => {
              timers.delete(t);
              onLevel(0);
            }, cmd.pulseMs);
            timers.add(t);
          }
          if (msg.reply !== undefined && msg.reply !== "") msg.respond(JSON.stringify({ ok: true }));
        },
        { log, metrics: deps.metrics },
      );
      log.info({ subject: subjects.pirInject(deps.device) }, "simulated PIR: inject edges over NATS");
      return { initial: 0 };
    },
    async stop() {
      sub?.unsubscribe();
      for (const t of timers) clearTimeout(t);
    },
  };
}
