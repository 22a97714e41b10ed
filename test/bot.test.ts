import { subjects } from "@picket/contracts";
import { jetstream } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED, TOKEN, expectNoSecret, ok, opsPort, pulse, startBotStack, type Cleanups } from "./support/bot.js";
import { ffprobe } from "./support/media.js";
import { startNats } from "./support/nats.js";
import { freePort, waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv, runCli } from "./support/services.js";
import { startTelegramApi, updates } from "./support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe("bot service", () => {
  it("sends an alarm's photo, a 1280x720 JPEG, once to each allowed chat and to no other", async () => {
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN });
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
    const { stack, double, bot } = await startBotStack(cleanups, { token: TOKEN });
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
    expect(String(refusal?.params.text)).toMatch(/private Picket bot.*pairing code.*\/start CODE.*id is 999/);
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

  it("pairs a stranger's chat and a group with the owner's one-time code from npm run bot, and unpairing stops their alerts and commands", async () => {
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN });
    const textsTo = (chat: string) => double.calls("sendMessage").filter((c) => c.chatId === chat && ok(c)).map((c) => String(c.params.text));
    const lastTextTo = async (chat: string, n: number) => {
      await double.waitForCalls("sendMessage", n, 15_000, (c) => c.chatId === chat && ok(c));
      return textsTo(chat)[n - 1] as string;
    };

    double.pushUpdate(updates.text(555, "/start ABCD-EFGH"));
    expect(await lastTextTo("555", 1)).toMatch(/no pairing code waiting/);

    const made = await runCli("bot-cli.js", stack.nats.url, "pair");
    expect(made.code).toBe(0);
    const code = /\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b/.exec(made.out)?.[1] as string;
    expect(made.out).toContain(`/start ${code}`);
    const wrong = code.startsWith("2222") ? "3333-3333" : "2222-2222";
    double.pushUpdate(updates.text(555, `/start ${wrong}`));
    expect(await lastTextTo("555", 2)).toMatch(/Wrong code\. 4 tries left/);
    double.pushUpdate(updates.text(555, `/start ${code.toLowerCase()}`));
    expect(await lastTextTo("555", 3)).toMatch(/^Paired/);
    // One-time: the same code does not pair another chat.
    double.pushUpdate(updates.text(666, `/start ${code}`));
    expect(await lastTextTo("666", 1)).toMatch(/no pairing code waiting/);

    // The newly paired chat commands the bot and gets alerts.
    double.pushUpdate(updates.text(555, "/status"));
    expect(await lastTextTo("555", 4)).toMatch(new RegExp(`^Picket on ${stack.device}`));
    await pulse(nc, stack);
    const photos = await double.waitForCalls("sendPhoto", 3, 20_000, ok);
    expect(photos.map((c) => c.chatId).sort()).toEqual(["-222", "111", "555"]);

    // A group pairs with a code addressed to the bot, as privacy mode needs.
    const group = /\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b/.exec((await runCli("bot-cli.js", stack.nats.url, "pair")).out)?.[1] as string;
    double.pushUpdate(updates.text(-777, `/start@picket_test_bot ${group}`, 4242));
    expect(await lastTextTo("-777", 1)).toMatch(/^Paired/);
    const listed = await runCli("bot-cli.js", stack.nats.url, "chats");
    expect(listed.out).toMatch(/555/);
    expect(listed.out).toMatch(/-777/);

    // Unpaired: no alert, and its commands get the stranger's answer.
    expect((await runCli("bot-cli.js", stack.nats.url, "unpair", "555")).code).toBe(0);
    await bot.waitForMsg("chat unpaired");
    double.pushUpdate(updates.text(555, "/status"));
    expect(await lastTextTo("555", 5)).toMatch(/private Picket bot/);
    await pulse(nc, stack);
    await double.waitForCalls("sendPhoto", 6, 20_000, ok);
    await bot.waitForLog((l) => l.msg === "alert delivered" && bot.logs.filter((m) => m.msg === "alert delivered").length === 2, 10_000, "second alert");
    expect(double.calls("sendPhoto").filter(ok).map((c) => c.chatId).sort()).toEqual(["-222", "-222", "-777", "111", "111", "555"]);
    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("in webhook mode takes updates only with the secret, answers them, alerts as usual, and never polls", async () => {
    const port = await freePort();
    const secret = "webhook-secret-0123456789abcdef";
    const { stack, double, nc, bot } = await startBotStack(cleanups, {
      token: TOKEN,
      env: { PICKET_TELEGRAM_WEBHOOK_URL: "https://cam.example.org/", PICKET_TELEGRAM_WEBHOOK_SECRET: secret, PICKET_TELEGRAM_WEBHOOK_PORT: String(port) },
    });
    await bot.waitForMsg("bot taking updates by webhook; alerts on");
    const hook = double.webhook();
    expect(hook?.url).toMatch(/^https:\/\/cam\.example\.org\/telegram\/[0-9a-f]{32}$/);
    expect(hook?.secretToken).toBe(secret);
    const local = (registered: URL) => `http://127.0.0.1:${port}${registered.pathname}`;

    // A forged update (wrong or no secret) is refused and does nothing.
    expect(await double.postToWebhook(updates.text(111, "/ping"), { to: local, secret: "not-the-secret-at-all" })).toBe(401);
    expect(await double.postToWebhook(updates.text(111, "/ping"), { to: local, secret: null })).toBe(401);
    expect(await double.postToWebhook(updates.text(111, "/ping"), { to: local })).toBe(200);
    const [photo] = await double.waitForCalls("sendPhoto", 1, 20_000, ok);
    expect(photo?.chatId).toBe("111");
    expect(String(photo?.params.caption)).toMatch(/^pong/);

    await pulse(nc, stack);
    await double.waitForCalls("sendPhoto", 3, 20_000, ok);
    expect(double.calls("sendPhoto").filter(ok)).toHaveLength(3);
    expect(double.calls("getUpdates")).toEqual([]);
    expect(bot.raw).not.toContain(secret);
    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);
  });

  it("refuses webhook mode without its secret, saying what is missing", async () => {
    const bot = new ServiceProcess("bot", { ...baseEnv("nats://127.0.0.1:1", "dev-nosecret"), PICKET_TELEGRAM_TOKEN: TOKEN, PICKET_TELEGRAM_WEBHOOK_URL: "https://cam.example.org/" });
    cleanups.push(() => bot.stop());
    expect((await bot.exited).code).toBe(1);
    expect(bot.raw).toMatch(/PICKET_TELEGRAM_WEBHOOK_URL needs PICKET_TELEGRAM_WEBHOOK_SECRET/);
  });

  it("drops and counts a malformed event, and the next alarm still reaches Telegram", async () => {
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN });
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
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN });
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
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN });
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
    const { stack, double, nc, bot } = await startBotStack(cleanups, { services: ["bot"] });
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
