import { VERSION, bootService, connectBus, ensureEventsStream, openMediaStore, openSettings, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { cameraConfig, cameraProfiles, checkCameraConfig } from "./config.js";
import { createCameraService } from "./camera-service.js";

const { cfg, log, lc, metrics } = bootService("camera", cameraConfig, checkCameraConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-camera-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const settings = await openSettings(nc);
  const js = await ensureEventsStream(nc);
  const store = await openMediaStore(nc, { maxBytes: cfg.mediaMaxMb * 1024 * 1024, maxAgeMs: cfg.mediaMaxAgeH * 3_600_000, log: log.child({ module: "media-store" }) });
  const camera = createCameraService({ nc, log, metrics, device: cfg.deviceId, ...cfg, profiles: cameraProfiles(cfg), settings, media: { store, js }, events: js });
  await camera.start();
  lc.add("camera", () => camera.stop());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "camera", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: camera.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: camera.health, log });
  lc.add("ops", ops.close);
});
