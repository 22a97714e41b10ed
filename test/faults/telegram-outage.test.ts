import { subjects } from "@picket/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED, QUICK_PRESENCE, TOKEN } from "../support/bot.js";
import { testBus } from "../support/bus.js";
import { TcpGate, lastAlertOf, ledger, now, presenceOver, sleep, storedPresence, waitForDelivery } from "../support/faults.js";
import { recordReliability } from "../support/reliability.js";
import { startStack, type Cleanups } from "../support/stack.js";
import { startTelegramApi } from "../support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const MINUTE = 60_000;
/** The figure: Telegram away for 10 minutes, an alarm a minute meanwhile. */
const OUTAGE_MS = 10 * MINUTE;

describe("a 10-minute Telegram outage", () => {
  it("delivers every alarm raised during it once, in order, to each chat when Telegram is back", async () => {
    const double = await startTelegramApi(TOKEN);
    cleanups.push(() => double.close());
    // The bot reaches the double through a gate that can refuse connections or answer 502, like a dead uplink or proxy.
    const gate = await TcpGate.start(Number(new URL(double.url).port));
    cleanups.push(() => gate.close());
    const stack = await startStack({
      services: ["pir", "bot"],
      env: { ...QUICK_PRESENCE, PICKET_TELEGRAM_TOKEN: TOKEN, PICKET_TELEGRAM_API_ROOT: gate.url, PICKET_TELEGRAM_CHATS: ALLOWED.join(",") },
    });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const pirs = [stack.get("pir")];
    const bot = stack.get("bot");
    const alarm = () => nc.request(subjects.pirInject(stack.device), JSON.stringify({ pulseMs: 300 }), { timeout: 5_000 });

    await alarm();
    await waitForDelivery({ nc, device: stack.device, pirs: () => pirs, double, chats: ALLOWED, timeoutMs: 30_000 });

    // Connections refused for the first half, 502 Bad Gateway for the second; an alarm a minute throughout.
    const outageStart = now();
    await gate.set("refuse");
    for (let minute = 0; minute < OUTAGE_MS / MINUTE; minute++) {
      if (minute === OUTAGE_MS / MINUTE / 2) await gate.set("502");
      await sleep(MINUTE / 2);
      await alarm();
      await sleep(MINUTE / 2);
    }
    await gate.set("open");
    const back = now();
    const raisedDuring = (await storedPresence(nc, stack.device)).filter((e) => e.state === "started" && e.at >= outageStart && e.at < back);
    // One more alarm with Telegram back: it comes after the backlog.
    await presenceOver(() => pirs);
    await alarm();
    await presenceOver(() => pirs);
    await waitForDelivery({ nc, device: stack.device, pirs: () => pirs, double, chats: ALLOWED, timeoutMs: 10 * MINUTE });
    const l = await ledger(nc, stack.device, pirs, double, ALLOWED);
    const recoveryMs = lastAlertOf(double, raisedDuring) - back;
    recordReliability("telegram-outage-10min", {
      kind: "fault",
      fault: "Telegram unreachable for 10 min (5 min connection refused, then 5 min 502 Bad Gateway) with an alarm a minute, 2 chats (a private chat and a group)",
      recoveryMs,
      measured: "Telegram back → last alert raised during the outage delivered to every chat",
      eventsLost: l.lost.length + Object.values(l.alertsMissing).reduce((n, m) => n + m.length, 0),
      alertsDuplicated: l.alertsDuplicated + l.storedTwice.length,
      events: l.raised.length,
      notes: `${raisedDuring.length} alarms during the outage`,
    });
    expect(raisedDuring).toHaveLength(OUTAGE_MS / MINUTE);
    expect(l.lost).toEqual([]);
    expect(l.storedTwice).toEqual([]);
    expect(l.alertsMissing).toEqual(Object.fromEntries(ALLOWED.map((c) => [c, []])));
    expect(l.alertsDuplicated).toBe(0);
    expect(l.alertsInOrder).toBe(true);
    expect(bot.logs.some((line) => line.level === "fatal")).toBe(false);
  }, OUTAGE_MS + 15 * MINUTE);
});
