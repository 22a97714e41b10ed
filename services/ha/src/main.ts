import { VERSION, bootService, connectBus, deviceMediaReaders, deviceSettingsStores, openMediaReader, openSettings, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { haConfig } from "./config.js";
import { createHaBridge } from "./ha-bridge.js";

const { cfg, log, lc, metrics } = bootService("ha", haConfig);

await runMain(log, lc, async () => {
  const broker = cfg.mqtt;
  if (broker === undefined) {
    // Stays up (a restart policy would only start it again), answering /healthz.
    const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: () => ({ ok: true, bridge: "off" }), log });
    lc.add("ops", ops.close);
    log.info("Home Assistant bridge off: PICKET_MQTT_URL is not set");
    return;
  }
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-ha-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const settings = await openSettings(nc);
  const hub = cfg.role === "hub" ? { hub: cfg.deviceId } : undefined;
  const bridge = createHaBridge({
    nc,
    log,
    metrics,
    ...cfg,
    broker,
    settings,
    media: openMediaReader(nc),
    // A hub's devices keep their arming and photos: read and written there, through their domain.
    ...(hub === undefined ? {} : { ofDevice: { settings: deviceSettingsStores(nc, settings, { ...hub, by: "Home Assistant" }), media: deviceMediaReaders(nc, hub) } }),
    // As the web's Devices tab counts a device offline.
    offlineAfterMs: Math.max(10_000, cfg.heartbeatMs * 5),
    version: VERSION,
    onFatal: (err) => {
      log.fatal({ err }, "the MQTT broker refused the bridge; exiting");
      void lc.shutdown("MQTT credentials refused").then(() => process.exit(1));
    },
  });
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "ha", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: bridge.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: bridge.health, log });
  lc.add("ops", ops.close);
  // Intake last: the broker's commands arrive once everything else is up.
  lc.add("bridge", () => bridge.stop());
  await bridge.start();
  log.info({ broker: broker.display, discoveryPrefix: cfg.discoveryPrefix, topicPrefix: cfg.topicPrefix }, "Home Assistant bridge on");
});
