import { settingsKeys } from "@picket/contracts";
import { openSettings } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED, TOKEN, expectNoSecret, ok, startBotStack, storeAlert, type Cleanups } from "./support/bot.js";
import { waitFor } from "./support/ports.js";
import { ServiceProcess } from "./support/services.js";
import type { ApiCall, TelegramApiDouble } from "./support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Alert n happened at T0 + n s: its caption shows that second, so each photo names its alert. */
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

/** The alerts (by number) each chat got as photos, in the order Telegram received them. */
function alertsByChat(double: TelegramApiDouble): Record<string, number[]> {
  const out: Record<string, number[]> = Object.fromEntries(ALLOWED.map((c) => [c, []]));
  for (const call of double.calls("sendPhoto").filter(ok)) {
    const m = /\b09:00:(\d\d)\b/.exec(String(call.params.caption));
    if (m !== null && call.chatId !== undefined) out[call.chatId]?.push(Number(m[1]));
  }
  return out;
}

async function allGot(double: TelegramApiDouble, n: number, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, () => Object.values(alertsByChat(double)).every((got) => got.includes(n)) || undefined, timeoutMs);
}

describe("the bot under Telegram faults", () => {
  it("delivers every alert exactly once per chat, in order, within Telegram's limits, through 429s, 5xx, a hung upload, a 30 s outage and a restart mid-delivery", async () => {
    const { stack, double, nc, bot, env } = await startBotStack(cleanups, {
      token: TOKEN,
      services: ["camera", "bot"],
      env: { PICKET_TELEGRAM_UPLOAD_TIMEOUT_MS: "3000" },
    });
    // Telegram answers 429 to a chat sent to faster than about once a second (a little burst goes).
    double.enforceRateLimits({ burst: 2 });
    const device = stack.device;

    // 1. Flood control, then server errors: retried after retry_after and with backoff.
    double.failNext("sendPhoto", 1, { status: 429, retryAfter: 1 });
    double.failNext("sendPhoto", 2, { status: 502 });
    await storeAlert(nc, device, "fault-alert-01", T0 + 1_000);
    await allGot(double, 1, "alert 1 in both chats");

    // 2. An upload that never gets an answer: it times out and goes again.
    double.hangNext("sendPhoto", 1);
    await storeAlert(nc, device, "fault-alert-02", T0 + 2_000);
    await allGot(double, 2, "alert 2 in both chats");
    expect(double.calls("sendPhoto").some((c) => c.status === 0)).toBe(true);

    // 3. The uplink is gone for 30 s; three alerts happen meanwhile.
    double.outage(30_000, "reset");
    for (const n of [3, 4, 5]) await storeAlert(nc, device, `fault-alert-0${n}`, T0 + n * 1_000);
    await waitFor("the outage to end", () => !double.inOutage || undefined, 40_000);
    await allGot(double, 5, "alerts 3-5 after the outage", 60_000);

    // 4. The bot restarts while an alert is half delivered (one chat has it, the other's upload hangs).
    double.hangNext("sendPhoto", 1);
    await storeAlert(nc, device, "fault-alert-06", T0 + 6_000);
    await waitFor("alert 6 in one chat, hanging for the other", () => {
      const got = Object.values(alertsByChat(double)).filter((a) => a.includes(6)).length;
      const hung = double.calls("sendPhoto").filter((c) => c.status === 0).length >= 2;
      return (got === 1 && hung) || undefined;
    });
    expect((await bot.stop()).code).toBe(0);
    await storeAlert(nc, device, "fault-alert-07", T0 + 7_000);
    const again = new ServiceProcess("bot", env);
    cleanups.push(() => again.stop());
    await again.waitForMsg(/^bot polling/, 20_000);
    await allGot(double, 7, "alerts 6 and 7 after the restart");

    // Every chat: each alert once, in event order.
    const expected = [1, 2, 3, 4, 5, 6, 7];
    if (process.env.DEBUG_FAULTS === "1") {
      for (const l of [...bot.logs, ...again.logs]) if (JSON.stringify(l).includes("06") || l.level !== "info") console.log(JSON.stringify(l).slice(0, 400));
      console.log(double.calls("sendPhoto").map((c) => `${c.chatId}:${c.status}:${/09:00:(\d\d)/.exec(String(c.params.caption))?.[1]}`).join(" "));
    }
    expect(alertsByChat(double)).toEqual(Object.fromEntries(ALLOWED.map((c) => [c, expected])));
    // Never faster than Telegram allows (the double answered 429 to anything faster; none got one but the injected).
    expect(double.rateViolations()).toEqual([]);
    expect(double.calls("sendPhoto").filter((c: ApiCall) => c.status === 429)).toHaveLength(1);
    expect(again.logs.some((l) => l.msg === "alert delivered" && (l.already as number[]).length === 1)).toBe(true);
    expect((await again.stop()).code).toBe(0);
    expectNoSecret(bot);
    expectNoSecret(again);
  });

  it("finishes an alert some chats already had after a restart, though alerts were snoozed meanwhile", async () => {
    const { stack, double, nc, bot, env } = await startBotStack(cleanups, { token: TOKEN, services: ["camera", "bot"], env: { PICKET_TELEGRAM_UPLOAD_TIMEOUT_MS: "3000" } });
    const device = stack.device;
    double.hangNext("sendPhoto", 1);
    await storeAlert(nc, device, "snooze-alert-01", T0 + 1_000);
    await waitFor("the alert in one chat, hanging for the other", () => {
      const got = Object.values(alertsByChat(double)).filter((a) => a.includes(1)).length;
      return (got === 1 && double.calls("sendPhoto").some((c) => c.status === 0)) || undefined;
    });
    expect((await bot.stop()).code).toBe(0);
    // Someone snoozes alerts while the bot is away.
    await (await openSettings(nc)).put(settingsKeys.snooze(device), JSON.stringify({ until: Date.now() + 3_600_000, by: "test" }));
    const again = new ServiceProcess("bot", env);
    cleanups.push(() => again.stop());
    await allGot(double, 1, "the alert in the other chat after the restart");
    expect(alertsByChat(double)).toEqual(Object.fromEntries(ALLOWED.map((c) => [c, [1]])));
    // A new alert is held back by the snooze.
    await storeAlert(nc, device, "snooze-alert-02", T0 + 2_000);
    await again.waitForMsg("alert not sent: snoozed", 15_000);
    expect(alertsByChat(double)).toEqual(Object.fromEntries(ALLOWED.map((c) => [c, [1]])));
  });

  it("stops with a clear reason when a second bot polls with the same token", async () => {
    const { double, bot } = await startBotStack(cleanups, { token: TOKEN, services: ["bot"] });
    double.secondPoller();
    expect((await bot.exited).code).toBe(1);
    const fatal = bot.logs.find((l) => l.level === "fatal");
    expect(String((fatal?.err as { message?: string } | undefined)?.message)).toMatch(/409.*another program is taking this bot's updates.*Telegram allows one/);
    expectNoSecret(bot);
  });
});
