import { subjects } from "@picket/contracts";
import { connectBus, createLogger, jetstream, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ffprobe } from "./support/media.js";
import { startNats } from "./support/nats.js";
import { waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { startStack, type Stack } from "./support/stack.js";
import { startTelegramApi, updates, type ApiCall, type TelegramApiDouble } from "./support/telegram-api.js";

/** Shaped like a real token (bot id, colon, 35 characters) so the logger's scrubbing is really tested. */
const TOKEN = "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk";
const SECRET_PART = TOKEN.split(":")[1] as string;
const ALLOWED = ["111", "-222"];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface BotStack {
  stack: Stack;
  double: TelegramApiDouble;
  nc: NatsConnection;
  bot: ServiceProcess;
}

async function startBotStack(opts: { token?: string; services?: ("camera" | "pir" | "bot")[] } = {}): Promise<BotStack> {
  const double = await startTelegramApi(TOKEN);
  cleanups.push(() => double.close());
  const env: Record<string, string> = {
    PICKET_TELEGRAM_API_ROOT: double.url,
    PICKET_TELEGRAM_CHATS: ALLOWED.join(","),
    PICKET_PRESENCE_MODE: "pir",
    PICKET_PRESENCE_COOLDOWN_MS: "0",
    PICKET_PRESENCE_GAP_MS: "1000",
    PICKET_PIR_HOLD_S: "1",
    PICKET_PIR_BLOCK_MS: "0",
    PICKET_TZ: "UTC",
  };
  if (opts.token !== undefined) env.PICKET_TELEGRAM_TOKEN = opts.token;
  const stack = await startStack({ services: opts.services ?? ["camera", "pir", "bot"], env });
  // Stopping twice is harmless, so a test may stop the stack itself to check exit codes.
  cleanups.push(() => stack.stop());
  const nc = await connectBus({ url: stack.nats.url, name: "bot-test", log: createLogger({ service: "test", device: stack.device, level: "silent" }) });
  cleanups.push(() => nc.close());
  nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => pirLevels.set(stack.device, (m.json() as { level: 0 | 1 }).level) });
  return { stack, double, nc, bot: stack.get("bot") };
}

/**
 * One PIR pulse through the simulated driver, as a new visit: it waits for the previous
 * presence (if any) to end first. Resolves when the pir service took the pulse.
 */
const pirLevels = new Map<string, 0 | 1>();

async function pulse(nc: NatsConnection, stack: Stack, ms = 300): Promise<void> {
  const pir = stack.get("pir");
  // The emulated sensor's output must have fallen, or the pulse would be no new rise.
  await waitFor("the PIR output to fall", () => pirLevels.get(stack.device) !== 1 || undefined, 15_000);
  const count = (msg: string) => pir.logs.filter((l) => l.msg === msg).length;
  await waitFor("the previous presence to end", () => count("presence ended") >= count("presence started") || undefined, 15_000);
  await nc.request(subjects.pirInject(stack.device), JSON.stringify({ pulseMs: ms }), { timeout: 5_000 });
}

const ok = (c: ApiCall) => c.status === 200;

async function opsPort(bot: ServiceProcess): Promise<number> {
  const line = await bot.waitForMsg("serving /healthz and /metrics");
  return line.port as number;
}

function expectNoSecret(bot: ServiceProcess): void {
  expect(bot.raw).not.toContain(TOKEN);
  expect(bot.raw).not.toContain(SECRET_PART);
}

describe("bot service", () => {
  it("sends an alarm's photo, a 1280x720 JPEG, once to each allowed chat and to no other", async () => {
    const { stack, double, nc, bot } = await startBotStack({ token: TOKEN });
    await pulse(nc, stack);
    const photos = await double.waitForCalls("sendPhoto", 2, 20_000, ok);
    await bot.waitForMsg("alert delivered");

    expect(photos.map((c) => c.chatId).sort()).toEqual([...ALLOWED].sort());
    for (const call of double.calls("sendPhoto")) {
      expect(call.encoding).toBe("multipart");
      const photo = call.files.photo as Buffer;
      expect(await ffprobe(photo)).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });
      expect(String(call.params.caption)).toContain(stack.device);
      expect(call.params.parse_mode).toBeUndefined();
    }
    expect(double.calls("sendPhoto")).toHaveLength(2);
    expect(double.calls("sendMessage")).toHaveLength(0);
    expect(double.calls().filter((c) => c.chatId !== undefined && !ALLOWED.includes(c.chatId))).toEqual([]);

    const codes = await stack.stop();
    expect(codes.bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("answers /ping from an allowed chat with a photo; a stranger's private chat gets one polite refusal an hour, unknown groups and channels nothing", async () => {
    const { stack, double, bot } = await startBotStack({ token: TOKEN });
    double.pushUpdate(updates.text(999, "/ping"));
    double.pushUpdate(updates.channelPost(-222, "/ping"));
    double.pushUpdate(updates.text(-333, "/ping"));
    double.pushUpdate(updates.text(111, "/ping"));
    const [answer] = await double.waitForCalls("sendPhoto", 1, 20_000);

    expect(answer?.chatId).toBe("111");
    expect(String(answer?.params.caption)).toMatch(new RegExp(`^pong — ${stack.device} `));
    expect((await ffprobe(answer?.files.photo as Buffer)).width).toBe(1280);
    // The stranger's private chat gets one polite refusal naming its id, and no photo; an
    // unknown group and the channel get nothing.
    const [refusal] = await double.waitForCalls("sendMessage", 1, 10_000, (c) => c.chatId === "999");
    expect(String(refusal?.params.text)).toMatch(/private Picket bot.*id 999/);
    double.pushUpdate(updates.text(999, "/ping please"));
    double.pushUpdate(updates.text(111, "/ping"));
    await double.waitForCalls("sendPhoto", 2, 20_000);
    await bot.waitForLog((l) => l.msg === "ignored update from a chat that is not allowed" && bot.logs.filter((m) => m.msg === l.msg).length === 3);
    expect(double.calls().filter((c) => c.chatId !== undefined).map((c) => c.chatId).sort()).toEqual(["111", "111", "999"]);
    // Its log line travels on another pipe than the HTTP call, so wait for it rather than look.
    const ignored = await bot.waitForMsg("ignored update from a chat that is not allowed");
    expect(ignored.chat).toBe(999);

    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("drops and counts a malformed event, and the next alarm still reaches Telegram", async () => {
    const { stack, double, nc, bot } = await startBotStack({ token: TOKEN });
    const js = jetstream(nc);
    await js.publish(subjects.event(stack.device, "presence"), "this is not json");
    await js.publish(subjects.event(stack.device, "presence"), JSON.stringify({ id: "x", kind: "presence" }));
    await bot.waitForLog((l) => l.msg === "dropped malformed message" && bot.logs.filter((m) => m.msg === "dropped malformed message").length === 2, 15_000, "two dropped messages");

    const metrics = await (await fetch(`http://127.0.0.1:${await opsPort(bot)}/metrics`)).text();
    expect(metrics).toMatch(/picket_bad_messages_total\{[^}]*subject="picket\.[^"]+\.events\.presence"[^}]*\} 2/);

    await pulse(nc, stack);
    const photos = await double.waitForCalls("sendPhoto", 2, 20_000, ok);
    expect(photos.map((c) => c.chatId).sort()).toEqual([...ALLOWED].sort());

    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("retries Telegram failures (5xx, 429) without sending twice to a chat that has the alert", async () => {
    const { stack, double, nc, bot } = await startBotStack({ token: TOKEN });
    // One of the two parallel uploads fails: the retry goes to that chat only.
    double.failNext("sendPhoto", 1, { status: 500 });
    await pulse(nc, stack);
    await double.waitForCalls("sendPhoto", 2, 30_000, ok);
    await bot.waitForMsg("alert delivered", 30_000);
    expect(double.calls("sendPhoto")).toHaveLength(3);

    // Both uploads hit flood control, then go through after retry_after.
    double.failNext("sendPhoto", 2, { status: 429, retryAfter: 1 });
    await pulse(nc, stack);
    await double.waitForCalls("sendPhoto", 4, 30_000, ok);
    await bot.waitForLog((l) => l.msg === "alert delivered" && bot.logs.filter((m) => m.msg === "alert delivered").length === 2, 30_000, "second delivery");

    const delivered = double.calls("sendPhoto").filter(ok);
    for (const chat of ALLOWED) expect(delivered.filter((c) => c.chatId === chat)).toHaveLength(2);
    expect(double.calls("sendPhoto")).toHaveLength(7);
    expect(bot.logs.filter((l) => l.msg === "send failed; trying again")).toHaveLength(3);

    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("the household commands it: the alert's Disarm button really disarms, /snooze really silences alerts (not test alarms), /arm and /snooze off undo them, /status says so", async () => {
    const { stack, double, nc, bot } = await startBotStack({ token: TOKEN });
    const pir = stack.get("pir");
    const photos = () => double.calls("sendPhoto").filter((c) => ok(c) && c.chatId === "111").length;
    const said = (text: RegExp) => double.waitForCalls("sendMessage", 1, 15_000, (c) => c.chatId === "111" && text.test(String(c.params.text)));

    // An alert carries the buttons.
    await pulse(nc, stack);
    const [alert] = await double.waitForCalls("sendPhoto", 1, 20_000, (c) => ok(c) && c.chatId === "111");
    expect(String(alert?.params.reply_markup)).toContain("snooze:3600");
    expect(String(alert?.params.reply_markup)).toContain("disarm");

    // The Disarm button.
    double.pushUpdate(updates.callback(111, "disarm"));
    await said(/is disarmed/);
    await double.waitForCalls("answerCallbackQuery", 1, 10_000);
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === false);
    const beforeDisarmed = photos();
    await pulse(nc, stack);
    // The test alarm comes after the pulse was handled: the positive control.
    await nc.request(subjects.testAlarm(stack.device), "{}", { timeout: 5_000 });
    await double.waitForCalls("sendPhoto", beforeDisarmed + 1, 20_000, (c) => ok(c) && c.chatId === "111");
    await new Promise((r) => setTimeout(r, 500));
    expect(photos()).toBe(beforeDisarmed + 1); // the test alarm only: the disarmed pulse sent nothing

    // /arm, then /snooze 1h: the next alarm is recorded but not sent; a test alarm still is.
    double.pushUpdate(updates.text(111, "/arm"));
    await said(/is armed/);
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === true);
    double.pushUpdate(updates.text(111, "/snooze 1h"));
    await said(/snoozed for 1 h/);
    const beforeSnoozed = photos();
    await pulse(nc, stack);
    await bot.waitForMsg("alert not sent: snoozed", 20_000);
    expect(photos()).toBe(beforeSnoozed);
    double.pushUpdate(updates.text(111, "/status"));
    await said(/Arming: armed\nAlerts: snoozed until/);

    // /snooze off: alerts again.
    double.pushUpdate(updates.text(111, "/snooze off"));
    await said(/are on again/);
    const beforeOn = photos();
    await pulse(nc, stack);
    await double.waitForCalls("sendPhoto", beforeOn + 1, 20_000, (c) => ok(c) && c.chatId === "111");

    // A bad duration gets a hint; a forged button and a stranger's button do nothing.
    const answered = double.calls("answerCallbackQuery").length;
    double.pushUpdate(updates.text(111, "/snooze forever"));
    await said(/not a duration: try 30m, 1h or 2h30m/);
    double.pushUpdate(updates.callback(111, "format-disk"));
    double.pushUpdate(updates.callback(999, "disarm"));
    double.pushUpdate(updates.text(111, "/status"));
    await said(/Arming: armed\nAlerts: on/);
    await bot.waitForMsg("unknown button");

    // A /disarm queued while the bot was away an hour ago is not carried out late.
    const old = updates.text(111, "/disarm") as { message: { date: number } };
    old.message.date -= 3_600;
    double.pushUpdate(old);
    await said(/sent while the bot was away, so it was not carried out/);
    double.pushUpdate(updates.text(111, "/status"));
    await double.waitForCalls("sendMessage", 1, 15_000, (c) => c.chatId === "111" && /Arming: armed\nAlerts: on/.test(String(c.params.text)) && c.receivedAt > Date.now() - 5_000);
    expect(pir.logs.filter((l) => l.msg === "arming").map((l) => l.armedNow).slice(-2)).toEqual([false, true]);
    // The stranger's press changed nothing and got no answer.
    expect(double.calls("answerCallbackQuery").slice(answered).map((c) => c.params.text)).toEqual(["Unknown button"]);
  });

  it("without a token says it is off, stays healthy with heartbeats, calls nothing, and exits 0", async () => {
    const { stack, double, nc, bot } = await startBotStack({ services: ["bot"] });
    const beat = new Promise<void>((resolve) => {
      const sub = nc.subscribe(subjects.heartbeat(stack.device, "bot"), { max: 1, callback: () => resolve() });
      cleanups.push(async () => sub.unsubscribe());
    });
    await beat;
    const health = await fetch(`http://127.0.0.1:${await opsPort(bot)}/healthz`);
    expect(health.status).toBe(200);
    expect(bot.logs.filter((l) => l.msg.startsWith("bot off"))).toHaveLength(1);
    expect(bot.logs.find((l) => l.msg.startsWith("bot off"))?.level).toBe("info");

    expect((await stack.stop()).bot?.code).toBe(0);
    expect(double.calls()).toEqual([]);
  });

  it("exits 1 with one clear line when Telegram refuses the token, without printing it", async () => {
    const double = await startTelegramApi(TOKEN);
    cleanups.push(() => double.close());
    const nats = await startNats();
    cleanups.push(() => nats.dispose());
    const wrong = "987654321:AAFwrongTokenwrongTokenwrongToken12";
    const bot = new ServiceProcess("bot", { ...baseEnv(nats.url, "dev-badtoken"), PICKET_TELEGRAM_TOKEN: wrong, PICKET_TELEGRAM_API_ROOT: double.url, PICKET_TELEGRAM_CHATS: "111" });
    cleanups.push(() => bot.stop());

    expect((await bot.exited).code).toBe(1);
    const fatal = bot.logs.filter((l) => l.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect((fatal[0]?.err as { message: string }).message).toMatch(/getMe failed \(401\): Unauthorized/);
    expect(double.calls().map((c) => c.method)).toEqual(["getMe"]);
    expect(bot.raw).not.toContain(wrong.split(":")[1]);
  });

  it("refuses a bad chat list at start, naming the variable and the entry", async () => {
    const bot = new ServiceProcess("bot", { ...baseEnv("nats://127.0.0.1:1", "dev-badconfig"), PICKET_TELEGRAM_TOKEN: TOKEN, PICKET_TELEGRAM_CHATS: "111,abc" });
    cleanups.push(() => bot.stop());
    expect((await bot.exited).code).toBe(1);
    const fatal = bot.logs.find((l) => l.level === "fatal");
    expect(fatal?.msg).toMatch(/^bad configuration: PICKET_TELEGRAM_CHATS .*"abc" is not a chat id/);
    expectNoSecret(bot);
  });
});
