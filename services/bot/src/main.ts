import { VERSION, bootService, connectBus, deviceMediaReaders, openSettings, runMain, startHeartbeat, startOpsServer, watchConnection } from "@picket/runtime";
import { botConfig, checkBotConfig } from "./config.js";
import { createBotService, type BotService } from "./bot-service.js";
import { openBotState } from "./delivery-log.js";
import { BotLease, openLeaseStore } from "./lease.js";

const { cfg, log, lc, metrics } = bootService("bot", botConfig, checkBotConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-bot-${cfg.deviceId}`, log, replicas: cfg.jsReplicas });
  lc.add("bus", () => nc.drain());
  const link = watchConnection(nc);
  const settings = await openSettings(nc);
  const botState = await openBotState(nc);
  // A hub's bot reads each device's media where the device keeps them (its JetStream domain, its id).
  const mediaOf = deviceMediaReaders(nc, cfg.role === "hub" ? { hub: cfg.deviceId } : {});
  /** A fresh bot each time this replica takes the lease. */
  const makeBot = () =>
    createBotService({
      nc,
      log,
      metrics,
      device: cfg.deviceId,
      ...cfg,
      fleet: cfg.role === "hub",
      settings,
      botState,
      storedPhoto: (name: string, timeoutMs: number, signal: AbortSignal, device: string) => mediaOf(device).waitFor(name, timeoutMs, signal),
      storedMedia: (name: string, device: string) => mediaOf(device).get(name),
      onFatal: (err) => {
        log.fatal({ err }, "Telegram stopped working; exiting");
        void lc.shutdown("telegram failed").then(() => process.exit(1));
      },
    });
  let bot: BotService | undefined;
  const lease = new BotLease({
    store: await openLeaseStore(nc, cfg.leaseMs),
    reopen: () => openLeaseStore(nc, cfg.leaseMs),
    holder: cfg.replica,
    ttlMs: cfg.leaseMs,
    log,
    onAcquired: async () => {
      bot = makeBot();
      await bot.start();
    },
    onLost: async () => {
      const b = bot;
      bot = undefined;
      await b?.stop();
    },
    onFailure: (err) => {
      log.fatal({ err }, "bot could not start after taking over the lease; exiting");
      void lc.shutdown("start-up failed").then(() => process.exit(1));
    },
  });
  const health = () => bot?.health() ?? { ok: link.connected, nats: link.connected, telegram: "standby" };
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "bot", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: () => bot?.vitals() ?? { standby: 1 } }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health, log });
  lc.add("ops", ops.close);
  // Intake last: Telegram polling and alerts start once everything else is up (and this replica holds the lease).
  lc.add("bot", () => lease.stop());
  log.info({ replica: cfg.replica }, "bot replica waiting for the lease");
  await lease.start();
  if (!lease.held) log.info({ replica: cfg.replica }, "another bot replica holds the lease: this one stands by");
});
