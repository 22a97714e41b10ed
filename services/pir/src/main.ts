import { VERSION, bootService, connectBus, ensureEventsStream, openSettings, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { pirConfig } from "./config.js";
import { createGpioDriver } from "./drivers/gpio.js";
import { createSimDriver } from "./drivers/sim.js";
import { createPirService } from "./pir-service.js";

const { cfg, log, lc, metrics } = bootService("pir", pirConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-pir-${cfg.deviceId}`, log });
  lc.add("bus", () => nc.drain());
  const js = await ensureEventsStream(nc);
  const settings = await openSettings(nc);
  const driver =
    cfg.pir.kind === "gpio"
      ? createGpioDriver({ bcmPin: cfg.pir.bcmPin, log })
      : createSimDriver({ nc, device: cfg.deviceId, log, metrics });
  const pir = createPirService({ nc, js, settings, log, metrics, device: cfg.deviceId, driver, ...cfg });
  await pir.start();
  lc.add("pir", () => pir.stop());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "pir", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: pir.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: pir.health, log });
  lc.add("ops", ops.close);
});
