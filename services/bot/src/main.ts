import { VERSION, bootService, connectBus, openMediaReader, openSettings, runMain, startHeartbeat, startOpsServer } from "@picket/runtime";
import { botConfig, checkBotConfig } from "./config.js";
import { createBotService } from "./bot-service.js";
import { openBotState } from "./delivery-log.js";

const { cfg, log, lc, metrics } = bootService("bot", botConfig, checkBotConfig);

await runMain(log, lc, async () => {
  const nc = await connectBus({ url: cfg.natsUrl, name: `picket-bot-${cfg.deviceId}`, log });
  lc.add("bus", () => nc.drain());
  const bot = createBotService({
    nc,
    log,
    metrics,
    device: cfg.deviceId,
    ...cfg,
    fleet: cfg.role === "hub",
    settings: await openSettings(nc),
    botState: await openBotState(nc),
    ...(() => {
      const media = openMediaReader(nc);
      return {
        storedPhoto: (name: string, timeoutMs: number, signal: AbortSignal) => media.waitFor(name, timeoutMs, signal),
        storedMedia: (name: string) => media.get(name),
      };
    })(),
    onFatal: (err) => {
      log.fatal({ err }, "Telegram stopped working; exiting");
      void lc.shutdown("telegram failed").then(() => process.exit(1));
    },
  });
  lc.add("heartbeat", startHeartbeat({ nc, device: cfg.deviceId, service: "bot", version: VERSION, intervalMs: cfg.heartbeatMs, vitals: bot.vitals }));
  const ops = await startOpsServer({ port: cfg.opsPort, registry: metrics.registry, health: bot.health, log });
  lc.add("ops", ops.close);
  // Intake last: Telegram polling and alerts start once everything else is up.
  lc.add("bot", () => bot.stop());
  await bot.start();
});
