import { VERSION, bootService, connectBus, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { fleetConfig } from "./config.js";
import { createFleetService } from "./fleet-service.js";
import { RegistryFollower } from "./registry.js";

const { cfg, log, lc, metrics } = bootService("fleet", fleetConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-fleet-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const fleet = createFleetService({ nc, log, metrics, ...cfg, ...(cfg.registryFile === undefined ? {} : { registry: new RegistryFollower(cfg.registryFile, log) }) });
  await fleet.start();
  lc.add("fleet", () => fleet.stop());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "fleet", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: fleet.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: fleet.health, log });
  lc.add("ops", ops.close);
});
