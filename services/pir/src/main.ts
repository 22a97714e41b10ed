import os from "node:os";
import { resolve } from "node:path";
import type { PresenceEvent } from "@picket/contracts";
import { EventOutbox, VERSION, bootService, connectBus, ensureEventsStream, openSettings, runMain, serveSettingWrites, startHeartbeat, startOpsServer } from "@picket/runtime";
import { pirConfig } from "./config.js";
import { createGpioDriver } from "./drivers/gpio.js";
import { createSimDriver } from "./drivers/sim.js";
import { createPirService } from "./pir-service.js";

const { cfg, log, lc, metrics } = bootService("pir", pirConfig);

await runMain(log, lc, async () => {
  // Before the bus: what an earlier run could not publish is read first, and kept if the bus never comes.
  const outbox = await EventOutbox.open<PresenceEvent>({ dir: resolve(cfg.outboxDir), name: `presence-${cfg.deviceId}`, log }).catch((err: unknown) => {
    log.error({ err, dir: cfg.outboxDir }, "cannot use the events outbox (PICKET_OUTBOX_DIR): events wait in memory only while the bus is away");
    return undefined;
  });
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-pir-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const js = await ensureEventsStream(nc);
  const settings = await openSettings(nc);
  const driver =
    cfg.pir.kind === "gpio"
      ? createGpioDriver({ bcmPin: cfg.pir.bcmPin, log })
      : createSimDriver({ nc, device: cfg.deviceId, log, metrics, sensor: { holdMs: cfg.holdS * 1000, trigger: cfg.trigger, blockMs: cfg.blockMs, warmupMs: 0 }, signal: cfg.simSignal });
  // A real sensor is powered with the Pi: it settles after boot, not after a service restart.
  const gpio = cfg.pir.kind === "gpio";
  const pir = createPirService({
    nc, js, settings, log, metrics, device: cfg.deviceId, driver, outbox, ...cfg,
    warmupMs: gpio ? cfg.warmupS * 1000 : 0,
    sensorStartedMono: gpio ? performance.now() - os.uptime() * 1000 : performance.now(),
    blockMs: gpio ? cfg.blockMs : 0,
    stuckMs: cfg.stuckS * 1000,
  });
  await pir.start();
  lc.add("pir", () => pir.stop());
  // A hub cannot write this device's bucket (its own JetStream domain): it asks here.
  const writes = serveSettingWrites({ nc, kv: settings, device: cfg.deviceId, log, metrics });
  lc.add("settings-writes", () => writes.unsubscribe());
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "pir", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: pir.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: pir.health, log });
  lc.add("ops", ops.close);
});
