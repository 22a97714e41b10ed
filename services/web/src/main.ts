import { Heartbeat, subjects } from "@picket/contracts";
import { DeviceDirectory, VERSION, bootService, openSecrets, resolveLiveSecret, startOpsServer, connectBus, runMain, startHeartbeat, subscribeJson, watchConnection } from "@picket/runtime";
import { buildApp } from "./app.js";
import { webConfig } from "./config.js";
import { openEventMedia } from "./events/event-media.js";
import { startEventFeed } from "./events/event-feed.js";
import { createHlsProxy } from "./hls-proxy.js";
import { createLiveProxy } from "./live-proxy.js";
import { serveUpgrades } from "./upgrade.js";
import { viewerTokens } from "./viewer-tokens.js";

const { cfg, log, lc, metrics } = bootService("web", webConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-web-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const link = watchConnection(nc);
  // A hub lists the devices that report to it, not itself (its own services beat too), and
  // calls one offline when its failure detector does.
  const hub = cfg.role === "hub";
  const directory = new DeviceDirectory(hub ? undefined : cfg.deviceId, hub ? cfg.fleetOfflineMs : Math.max(10_000, cfg.heartbeatMs * 5), undefined, hub ? 5_000 : 1_000);
  const beats = subscribeJson(nc, subjects.heartbeatsAll(), Heartbeat, (hb) => (hub && hb.device === cfg.deviceId ? undefined : directory.record(hb, Date.now())), { log, metrics });
  lc.add("heartbeats", () => beats.unsubscribe());
  const liveSecret = await resolveLiveSecret(await openSecrets(nc), cfg.liveSecret);
  const token = viewerTokens(liveSecret);
  const proxy = createLiveProxy({ streamUrl: cfg.streamUrl, log, token, ...(cfg.publicUrl === undefined ? {} : { publicOrigin: new URL(cfg.publicUrl).origin }) });
  const hls = createHlsProxy({ streamUrl: cfg.streamUrl, log, token });
  // The timeline is read from the events stream in the background: the UI answers meanwhile.
  // A hub reads each event's photo and clip where its device keeps them (the device's JetStream domain).
  const media = openEventMedia(nc, hub ? { hub: cfg.deviceId } : {});
  const feed = startEventFeed({ nc, log, media });
  lc.add("events", () => feed.stop());
  const health = () => ({ ok: link.connected, nats: link.connected, viewers: proxy.viewers });
  const { app, auth } = await buildApp({
    nc,
    log,
    directory,
    device: cfg.deviceId,
    health,
    hls,
    feed,
    media,
    liveSecret,
    hub,
    timeZone: cfg.timeZone,
    trustProxy: cfg.trustProxy,
    auth: { sessionDays: cfg.sessionDays, ...(cfg.adminPassword === undefined ? {} : { adminPassword: cfg.adminPassword }), ...(cfg.publicUrl === undefined ? {} : { publicUrl: cfg.publicUrl }) },
  });
  lc.add("auth", () => auth.close());
  serveUpgrades(app.server, auth, proxy, log);
  await app.listen({ port: cfg.port, host: cfg.host });
  lc.add("http", () => app.close());
  lc.add("live", () => proxy.close());
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health, log });
  lc.add("ops", () => ops.close());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "web", version: VERSION, intervalMs: cfg.heartbeatMs, temperature: true, vitals: () => ({ viewers: proxy.viewers, skips: proxy.skips }) }));
  log.info({ url: `http://localhost:${cfg.port}/`, host: cfg.host }, `web UI on http://localhost:${cfg.port}/`);
});
