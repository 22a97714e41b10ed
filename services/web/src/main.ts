import { Heartbeat, subjects } from "@picket/contracts";
import { VERSION, bootService, connectBus, runMain, startHeartbeat, subscribeJson, watchConnection } from "@picket/runtime";
import { buildApp } from "./app.js";
import { webConfig } from "./config.js";
import { DeviceDirectory } from "./device-directory.js";
import { createHlsProxy } from "./hls-proxy.js";
import { createLiveProxy } from "./live-proxy.js";
import { viewerTokens } from "./viewer-tokens.js";

const { cfg, log, lc, metrics } = bootService("web", webConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-web-${cfg.deviceId}`, log });
  lc.add("bus", () => nc.drain());
  const link = watchConnection(nc);
  const directory = new DeviceDirectory(cfg.deviceId, Math.max(10_000, cfg.heartbeatMs * 5));
  const beats = subscribeJson(nc, subjects.heartbeatsAll(), Heartbeat, (hb) => directory.record(hb, Date.now()), { log, metrics });
  lc.add("heartbeats", () => beats.unsubscribe());
  const token = viewerTokens(cfg.liveSecret);
  const proxy = createLiveProxy({ streamUrl: cfg.streamUrl, log, token, ...(cfg.publicUrl === undefined ? {} : { publicOrigin: new URL(cfg.publicUrl).origin }) });
  const hls = createHlsProxy({ streamUrl: cfg.streamUrl, log, token });
  const app = buildApp({ nc, log, registry: metrics.registry, directory, device: cfg.deviceId, health: () => ({ ok: link.connected, nats: link.connected, viewers: proxy.viewers }), hls });
  app.server.on("upgrade", (req, socket, head) => {
    // Node drops its own error listener on upgrade: without one, a client's reset would crash us.
    socket.on("error", () => socket.destroy());
    if (!proxy.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
  });
  await app.listen({ port: cfg.port, host: cfg.host });
  lc.add("http", () => app.close());
  lc.add("live", () => proxy.close());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "web", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: () => ({ viewers: proxy.viewers, skips: proxy.skips }) }));
  log.info({ url: `http://localhost:${cfg.port}/`, host: cfg.host }, `web UI on http://localhost:${cfg.port}/`);
  // Login arrives with the web app; until then the port must not face the internet.
  log.warn({ host: cfg.host }, "no login yet: anyone who can reach this port can watch the cameras and raise test alarms; keep it on your LAN");
});
