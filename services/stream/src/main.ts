import { VERSION, bootService, connectBus, openSecrets, openSettings, resolveLiveSecret, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { streamConfig } from "./config.js";
import { createStreamService } from "./stream-service.js";

const { cfg, log, lc, metrics } = bootService("stream", streamConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-stream-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const settings = await openSettings(nc);
  const liveSecret = await resolveLiveSecret(await openSecrets(nc), cfg.liveSecret);
  const stream = createStreamService({ nc, log, metrics, ...cfg, liveSecret, settings });
  await stream.start();
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "stream", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: stream.vitals }));
  const http = await startOpsServer({ port: cfg.port, host: cfg.host, registry: metrics.registry, health: stream.health, log, extra: stream.handleRequest });
  http.server.on("upgrade", stream.handleUpgrade);
  lc.add("http", http.close);
  // Stopped before the HTTP server so viewers get a clean close (1001), not a reset.
  lc.add("stream", () => stream.stop());
  log.info({ port: http.port, host: cfg.host }, "serving viewers on /live/<device>/<profile> and /hls/<device>/<profile>/index.m3u8");
});
