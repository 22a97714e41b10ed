import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Telegraf, TelegramError } from "telegraf";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTelegramApi, updates, type TelegramApiDouble } from "./support/telegram-api.js";

const TOKEN = "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk";
const SECRET = "s3cret-token_of_the-test";
const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const CONFLICT_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

/** A real JPEG of the given size, made by ffmpeg. */
function jpeg(width: number, height: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", `testsrc=size=${width}x${height}`, "-frames:v", "1", "-c:v", "mjpeg", "-f", "image2", "pipe:1"], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("error", reject);
    p.once("exit", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

let small: Buffer;
let large: Buffer;
beforeAll(async () => {
  [small, large] = await Promise.all([jpeg(320, 240), jpeg(1280, 720)]);
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function start(): Promise<TelegramApiDouble> {
  const double = await startTelegramApi(TOKEN);
  cleanups.push(() => double.close());
  return double;
}

function telegraf(double: TelegramApiDouble): Telegraf {
  return new Telegraf(TOKEN, { telegram: { apiRoot: double.url } });
}

interface BotApiAnswer {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/** Calls a method with plain fetch: a JSON body, or multipart when `files` are given. */
async function call(double: TelegramApiDouble, method: string, params: Record<string, unknown> = {}, files: Record<string, Buffer> = {}, signal?: AbortSignal): Promise<{ status: number; body: BotApiAnswer }> {
  const url = `${double.url}/bot${TOKEN}/${method}`;
  let init: RequestInit;
  if (Object.keys(files).length === 0) {
    init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) };
  } else {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, typeof v === "string" ? v : JSON.stringify(v));
    for (const [k, v] of Object.entries(files)) form.append(k, new Blob([v], { type: "image/jpeg" }), `${k}.jpg`);
    init = { method: "POST", body: form };
  }
  const res = await fetch(url, { ...init, ...(signal ? { signal } : {}) });
  return { status: res.status, body: (await res.json()) as BotApiAnswer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PhotoSize {
  width: number;
  height: number;
  file_id: string;
}
interface SentMessage {
  message_id: number;
  media_group_id?: string;
  caption?: string;
  photo?: PhotoSize[];
  video?: { width: number; height: number };
}

describe("Telegram API double: sendMediaGroup", () => {
  it("takes uploads named by attach://, records them by field name and answers one message per item", async () => {
    const double = await start();
    const media = [
      { type: "photo", media: "attach://one", caption: "front door" },
      { type: "photo", media: "attach://two" },
      { type: "video", media: "attach://three", width: 640, height: 360, duration: 3 },
    ];
    const { status, body } = await call(double, "sendMediaGroup", { chat_id: "111", media }, { one: small, two: large, three: Buffer.from("not really an mp4") });
    expect(status).toBe(200);
    const msgs = body.result as SentMessage[];
    expect(msgs).toHaveLength(3);
    expect(new Set(msgs.map((m) => m.message_id)).size).toBe(3);
    expect(new Set(msgs.map((m) => m.media_group_id)).size).toBe(1);
    expect(msgs[0]?.caption).toBe("front door");
    expect(msgs[0]?.photo?.at(-1)).toMatchObject({ width: 320, height: 240 });
    expect(msgs[1]?.photo?.map((s) => s.width)).toEqual([90, 320, 800, 1280]);
    expect(msgs[2]?.video).toMatchObject({ width: 640, height: 360 });
    const [recorded] = double.calls("sendMediaGroup");
    expect(recorded?.encoding).toBe("multipart");
    expect(Object.keys(recorded?.files ?? {}).sort()).toEqual(["one", "three", "two"]);
    expect(recorded?.files.two?.equals(large)).toBe(true);
    expect(recorded?.messageIds).toEqual(msgs.map((m) => m.message_id));
    expect(recorded?.messageId).toBe(msgs[0]?.message_id);

    // A photo it handed out can be sent again by file_id, in a JSON body.
    const again = await call(double, "sendMediaGroup", { chat_id: 111, media: [{ type: "photo", media: msgs[1]?.photo?.at(-1)?.file_id }, { type: "photo", media: msgs[0]?.photo?.[0]?.file_id }] });
    expect(again.status).toBe(200);
    expect((again.body.result as SentMessage[]).map((m) => m.photo?.at(-1)?.width)).toEqual([1280, 90]);
  });

  it("validates like Telegram: 2–10 items, uploads that exist, known file_ids, captions up to 1024", async () => {
    const double = await start();
    const photo = (name: string) => ({ type: "photo", media: `attach://${name}` });
    const cases: [Record<string, unknown>, string][] = [
      [{ chat_id: "111" }, 'Bad Request: parameter "media" is required'],
      [{ chat_id: "111", media: "[not json" }, "Bad Request: can't parse media JSON object"],
      [{ chat_id: "111", media: [] }, "Bad Request: there are no messages to send"],
      [{ chat_id: "111", media: [photo("a")] }, "Bad Request: media must include 2-10 items"],
      [{ chat_id: "111", media: Array.from({ length: 11 }, () => photo("a")) }, "Bad Request: too many messages to send as an album"],
      [{ chat_id: "111", media: [photo("a"), photo("missing")] }, "Bad Request: can't parse InputMedia: media not found"],
      [{ chat_id: "111", media: [photo("a"), { type: "photo", media: "AgACnotAFileIdWeKnow" }] }, "Bad Request: wrong file identifier/HTTP URL specified"],
      [{ chat_id: "111", media: [photo("a"), { ...photo("a"), caption: "x".repeat(1025) }] }, "Bad Request: message caption is too long"],
      [{ chat_id: "111", media: [photo("a"), photo("notjpeg")] }, "Bad Request: IMAGE_PROCESS_FAILED"],
      [{ chat_id: "someone", media: [photo("a"), photo("a")] }, "Bad Request: chat not found"],
    ];
    for (const [params, description] of cases) {
      const { status, body } = await call(double, "sendMediaGroup", params, { a: small, notjpeg: Buffer.from("hello") });
      expect({ params, status, ok: body.ok }).toEqual({ params, status: 400, ok: false });
      expect(body.description, JSON.stringify(params).slice(0, 200)).toContain(description);
    }
    // Exactly 1024 and 10 items is fine.
    const fine = await call(double, "sendMediaGroup", { chat_id: "-222", media: Array.from({ length: 10 }, (_, i) => ({ ...photo("a"), caption: i === 0 ? "x".repeat(1024) : undefined })) }, { a: small });
    expect(fine.status).toBe(200);
    expect(fine.body.result).toHaveLength(10);
  });

  it("works with telegraf: two photo Buffers arrive as two files and come back as two messages", async () => {
    const double = await start();
    const bot = telegraf(double);
    const sent = await bot.telegram.sendMediaGroup(111, [
      { type: "photo", media: { source: small }, caption: "1 of 2" },
      { type: "photo", media: { source: large } },
    ]);
    expect(sent).toHaveLength(2);
    expect(sent.map((m) => ("photo" in m ? m.photo.at(-1)?.width : undefined))).toEqual([320, 1280]);
    expect(sent[0]?.caption).toBe("1 of 2");
    const [recorded] = double.calls("sendMediaGroup");
    const files = Object.values(recorded?.files ?? {});
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.equals(small)) && files.some((f) => f.equals(large))).toBe(true);
    expect(recorded?.chatId).toBe("111");
  });
});

describe("Telegram API double: webhooks", () => {
  it("setWebhook, getWebhookInfo, deleteWebhook and getUpdates 409 while a webhook is set (plain fetch)", async () => {
    const double = await start();
    expect((await call(double, "getWebhookInfo")).body.result).toMatchObject({ url: "", pending_update_count: 0 });
    const http = await call(double, "setWebhook", { url: "http://cam.example.org/hook" });
    expect(http).toMatchObject({ status: 400, body: { description: "Bad Request: bad webhook: An HTTPS URL must be provided for webhook" } });
    expect((await call(double, "setWebhook", { url: "https://cam.example.org/hook", secret_token: "has spaces" })).status).toBe(400);

    const set = await call(double, "setWebhook", { url: "https://cam.example.org/hook", secret_token: SECRET, allowed_updates: ["message"], max_connections: 5 });
    expect(set.body).toMatchObject({ ok: true, result: true });
    expect(double.webhook()).toMatchObject({ url: "https://cam.example.org/hook", secretToken: SECRET, allowedUpdates: ["message"], maxConnections: 5 });
    expect(double.calls("setWebhook").at(-1)?.params).toMatchObject({ secret_token: SECRET });
    double.pushUpdate(updates.text(111, "hello"));
    expect((await call(double, "getWebhookInfo")).body.result).toMatchObject({ url: "https://cam.example.org/hook", pending_update_count: 1, max_connections: 5, allowed_updates: ["message"] });

    const polled = await call(double, "getUpdates", { timeout: 1 });
    expect(polled).toEqual({ status: 409, body: { ok: false, error_code: 409, description: CONFLICT_WEBHOOK } });

    expect((await call(double, "deleteWebhook")).body.result).toBe(true);
    expect(double.webhook()).toBeUndefined();
    expect((await call(double, "getWebhookInfo")).body.result).toMatchObject({ url: "" });
    const after = await call(double, "getUpdates", { timeout: 0 });
    expect(after.status).toBe(200);
    expect(after.body.result).toHaveLength(1);
  });

  it("setWebhook ends a long poll still waiting with the webhook conflict", async () => {
    const double = await start();
    const poll = call(double, "getUpdates", { timeout: 10 });
    while (!double.pollPending) await sleep(20);
    await call(double, "setWebhook", { url: "https://cam.example.org/hook" });
    expect(await poll).toMatchObject({ status: 409, body: { description: CONFLICT_WEBHOOK } });
  });

  it("postToWebhook delivers to the registered URL with the secret header, or a wrong one on request", async () => {
    const double = await start();
    const seen: { url: string | undefined; headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        seen.push({ url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        res.statusCode = req.headers["x-telegram-bot-api-secret-token"] === SECRET ? 200 : 401;
        res.end();
      });
    });
    const port = await listen(receiver);
    // A bot behind a reverse proxy registers its public URL; `to` says where it really listens.
    await call(double, "setWebhook", { url: "https://cam.example.org/bot/telegram/abc", secret_token: SECRET });
    const to = (u: URL) => `http://127.0.0.1:${port}${u.pathname.replace(/^\/bot/, "")}`;
    expect(await double.postToWebhook(updates.text(111, "hi"), { to })).toBe(200);
    expect(await double.postToWebhook(updates.text(111, "hi"), { to, secret: "wrong" })).toBe(401);
    expect(await double.postToWebhook(updates.text(111, "hi"), { to: `http://127.0.0.1:${port}/telegram/abc`, secret: null })).toBe(401);
    expect(seen.map((s) => [s.url, s.headers["x-telegram-bot-api-secret-token"], s.headers["content-type"]])).toEqual([
      ["/telegram/abc", SECRET, "application/json"],
      ["/telegram/abc", "wrong", "application/json"],
      ["/telegram/abc", undefined, "application/json"],
    ]);
    const ids = seen.map((s) => s.body.update_id);
    expect(ids.every((id) => typeof id === "number") && new Set(ids).size === 3).toBe(true);
    expect(seen[0]?.body.message).toMatchObject({ text: "hi", chat: { id: 111 } });
  });

  it("works with telegraf: createWebhook, updates by postToWebhook, a wrong secret refused, getUpdates 409", async () => {
    const double = await start();
    const bot = telegraf(double);
    const texts: string[] = [];
    bot.on("message", async (ctx) => {
      texts.push("text" in ctx.message ? ctx.message.text : "?");
      await ctx.reply("got it");
    });
    const receiver = createServer();
    const port = await listen(receiver);
    const middleware = await bot.createWebhook({ domain: `127.0.0.1:${port}`, path: "/hook", secret_token: SECRET });
    receiver.on("request", (req, res) => void middleware(req, res));
    // telegraf registers https://; the double posts to a loopback https URL over plain http.
    expect(double.webhook()).toMatchObject({ url: `https://127.0.0.1:${port}/hook`, secretToken: SECRET });
    expect((await bot.telegram.getWebhookInfo()).url).toBe(`https://127.0.0.1:${port}/hook`);

    expect(await double.postToWebhook(updates.text(111, "hello bot"))).toBe(200);
    expect(texts).toEqual(["hello bot"]);
    expect(double.calls("sendMessage").map((c) => [c.chatId, c.params.text])).toEqual([["111", "got it"]]);

    expect(await double.postToWebhook(updates.text(111, "intruder"), { secret: "not-the-secret" })).toBe(403);
    expect(texts).toEqual(["hello bot"]);

    const err = await bot.telegram.getUpdates(0, 100, 0, undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramError);
    expect((err as TelegramError).code).toBe(409);
    expect((err as TelegramError).description).toBe(CONFLICT_WEBHOOK);

    await bot.telegram.deleteWebhook();
    expect(await bot.telegram.getUpdates(0, 100, 0, undefined)).toEqual([]);
    await expect(double.postToWebhook(updates.text(111, "x"))).rejects.toThrow(/no webhook/);
  });
});

describe("Telegram API double: outages and hangs", () => {
  it("outage(ms) resets every request until it ends (plain fetch), recorded with status 0", async () => {
    const double = await start();
    double.outage(400);
    expect(double.inOutage).toBe(true);
    await expect(call(double, "getMe")).rejects.toThrow(/fetch failed/);
    await expect(fetch(`${double.url}/nothing/here`)).rejects.toThrow(/fetch failed/);
    await expect(call(double, "sendMessage", { chat_id: 111, text: "x" })).rejects.toThrow();
    expect(double.calls().map((c) => [c.method, c.status])).toEqual([
      ["getMe", 0],
      ["/nothing/here", 0],
      ["sendMessage", 0],
    ]);
    expect(double.calls("sendMessage")[0]?.params.text).toBe("x");
    await sleep(500);
    expect(double.inOutage).toBe(false);
    expect((await call(double, "getMe")).status).toBe(200);
  });

  it("outage makes telegraf calls fail with a network error, then succeed after", async () => {
    const double = await start();
    const bot = telegraf(double);
    await bot.telegram.getMe(); // a kept-alive connection exists before the outage
    double.outage(500);
    const err = await bot.telegram.sendMessage(111, "during").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TelegramError);
    expect((err as Error).name).toBe("FetchError");
    expect((err as Error).message).not.toContain(TOKEN.split(":")[1]);
    await sleep(600);
    const sent = await bot.telegram.sendMessage(111, "after");
    expect(sent.text).toBe("after");
    expect(double.calls("sendMessage").map((c) => c.status)).toEqual([0, 200]);
  });

  it("outage(ms, '500') answers 500; telegraf throws a TelegramError with code 500", async () => {
    const double = await start();
    const bot = telegraf(double);
    double.outage(300, "500");
    expect((await call(double, "getMe")).status).toBe(500);
    const err = await bot.telegram.getMe().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramError);
    expect((err as TelegramError).code).toBe(500);
    await sleep(400);
    expect((await bot.telegram.getMe()).username).toBe("picket_test_bot");
    expect(double.calls("getMe").map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it("outage(ms, 'hang') answers nothing until the outage ends, then drops the connection", async () => {
    const double = await start();
    double.outage(500, "hang");
    const began = Date.now();
    const hung = call(double, "sendMessage", { chat_id: 111, text: "x" }).then(
      () => "answered",
      () => Date.now() - began,
    );
    await double.waitForCalls("sendMessage", 1);
    expect(double.calls("sendMessage")[0]?.status).toBe(0);
    const waited = await hung;
    expect(waited).toBeTypeOf("number");
    expect(waited as number).toBeGreaterThanOrEqual(400);
    expect((await call(double, "sendMessage", { chat_id: 111, text: "x" })).status).toBe(200);
  });

  it("an outage cuts the long poll in flight; updates pushed during it come with the next poll", async () => {
    const double = await start();
    const began = Date.now();
    const poll = call(double, "getUpdates", { timeout: 10 }).then(
      () => "answered",
      () => Date.now() - began,
    );
    while (!double.pollPending) await sleep(20);
    double.outage(300);
    const cut = await poll;
    expect(cut).toBeTypeOf("number");
    expect(cut as number).toBeLessThan(2_000);
    double.pushUpdate(updates.text(111, "while down"));
    await sleep(400);
    const next = await call(double, "getUpdates", { timeout: 1 });
    expect((next.body.result as { message: { text: string } }[]).map((u) => u.message.text)).toEqual(["while down"]);
    expect(double.calls("getUpdates").map((c) => c.status)).toEqual([0, 200]);
  });

  it("hangNext leaves the next calls unanswered until the client gives up; others go through", async () => {
    const double = await start();
    double.hangNext("sendMessage", 1);
    const gaveUp = await call(double, "sendMessage", { chat_id: 111, text: "one" }, {}, AbortSignal.timeout(300)).catch((e: unknown) => e);
    expect((gaveUp as Error).name).toBe("TimeoutError");
    expect((await call(double, "getMe")).status).toBe(200);
    expect((await call(double, "sendMessage", { chat_id: 111, text: "two" })).status).toBe(200);
    expect(double.calls("sendMessage").map((c) => [c.params.text, c.status])).toEqual([
      ["one", 0],
      ["two", 200],
    ]);

    // With telegraf: an aborted call.
    double.hangNext("sendMessage", 1);
    const bot = telegraf(double);
    const ctrl = new AbortController();
    const pending = bot.telegram.callApi("sendMessage", { chat_id: 111, text: "three" }, { signal: ctrl.signal as never }).catch((e: unknown) => e);
    await double.waitForCalls("sendMessage", 3);
    ctrl.abort();
    expect(((await pending) as Error).name).toBe("AbortError");
  });

  it("close() ends hung requests and outage timers", async () => {
    const double = await startTelegramApi(TOKEN);
    double.hangNext("getMe", 1);
    const hung = call(double, "getMe").catch((e: unknown) => e);
    await double.waitForCalls("getMe", 1);
    double.outage(60_000, "hang");
    const hung2 = call(double, "getMe").catch((e: unknown) => e);
    await double.waitForCalls("getMe", 2);
    const began = Date.now();
    await double.close();
    expect(await hung).toBeInstanceOf(Error);
    expect(await hung2).toBeInstanceOf(Error);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(double.inOutage).toBe(false);
  });
});

describe("Telegram API double: a second poller", () => {
  it("ends the pending poll and every later one with 409 until it is gone (plain fetch)", async () => {
    const double = await start();
    const poll = call(double, "getUpdates", { timeout: 10 });
    while (!double.pollPending) await sleep(20);
    double.secondPoller();
    expect(await poll).toEqual({ status: 409, body: { ok: false, error_code: 409, description: CONFLICT_POLLER } });
    double.pushUpdate(updates.text(111, "hello"));
    expect((await call(double, "getUpdates", { timeout: 0 })).status).toBe(409);
    double.secondPollerGone();
    const after = await call(double, "getUpdates", { timeout: 0 });
    expect(after.status).toBe(200);
    expect(after.body.result).toHaveLength(1);
  });

  it("makes telegraf's polling fail with 409", async () => {
    const double = await start();
    double.secondPoller();
    const bot = telegraf(double);
    const err = await bot.launch().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramError);
    expect((err as TelegramError).code).toBe(409);
    expect((err as TelegramError).description).toBe(CONFLICT_POLLER);
    expect(double.calls().map((c) => c.method)).toEqual(["getMe", "deleteWebhook", "getUpdates"]);
  });

  it("a polling telegraf bot started before the other one is thrown out with 409", async () => {
    const double = await start();
    const bot = telegraf(double);
    const launched = bot.launch().catch((e: unknown) => e);
    while (!double.pollPending) await sleep(20);
    double.secondPoller();
    const err = await launched;
    expect((err as TelegramError).code).toBe(409);
  });
});

describe("Telegram API double: flood control", () => {
  it("enforceRateLimits answers 429 with retry_after for a chat sent to too soon", async () => {
    const double = await start();
    double.enforceRateLimits();
    const bot = telegraf(double);
    await bot.telegram.sendMessage(111, "one");
    const err = await bot.telegram.sendMessage(111, "two").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramError);
    expect((err as TelegramError).code).toBe(429);
    expect((err as TelegramError).parameters?.retry_after).toBe(1);
    expect((err as TelegramError).description).toBe("Too Many Requests: retry after 1");
    // Another chat is not affected.
    await bot.telegram.sendMessage(333, "elsewhere");
    await sleep(1_000);
    await bot.telegram.sendMessage(111, "two");
    expect(double.calls("sendMessage").map((c) => c.status)).toEqual([200, 429, 200, 200]);
    // A burst lets sends through back to back.
    double.enforceRateLimits({ perChatPerSecond: 1, burst: 3 });
    const statuses: number[] = [];
    for (const text of ["a", "b", "c", "d"]) statuses.push((await call(double, "sendMessage", { chat_id: 444, text })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    double.enforceRateLimits(false);
    expect((await call(double, "sendMessage", { chat_id: 444, text: "e" })).status).toBe(200);
  });

  it("enforceRateLimits counts a media group as N messages towards a group's minute", async () => {
    const double = await start();
    double.enforceRateLimits({ perChatPerSecond: 1e9, perGroupPerMinute: 5 });
    const photo = (name: string) => ({ type: "photo", media: `attach://${name}` });
    const group = await call(double, "sendMediaGroup", { chat_id: "-222", media: [photo("a"), photo("a"), photo("a")] }, { a: small });
    expect(group.status).toBe(200);
    expect((await call(double, "sendMessage", { chat_id: -222, text: "4" })).status).toBe(200);
    expect((await call(double, "sendMessage", { chat_id: -222, text: "5" })).status).toBe(200);
    const sixth = await call(double, "sendMessage", { chat_id: -222, text: "6" });
    expect(sixth.status).toBe(429);
    expect(sixth.body.parameters?.retry_after).toBeGreaterThanOrEqual(59);
    expect(sixth.body.parameters?.retry_after).toBeLessThanOrEqual(60);
    // Private chats have no per-minute cap.
    for (let i = 0; i < 7; i++) expect((await call(double, "sendMessage", { chat_id: 111, text: String(i) })).status).toBe(200);
  });

  it("rateViolations reports gaps under 900 ms and more than 20 messages a minute to a group, successful sends only", async () => {
    const double = await start();
    const bot = telegraf(double);
    await bot.telegram.sendMessage(111, "one");
    await sleep(950);
    await bot.telegram.sendMessage(111, "two");
    expect(double.rateViolations()).toEqual([]);
    double.failNext("sendPhoto", 1, { status: 500 });
    await bot.telegram.sendPhoto(111, { source: small }).catch(() => undefined);
    expect(double.rateViolations()).toEqual([]);
    await bot.telegram.sendPhoto(111, { source: small });
    const [v] = double.rateViolations();
    expect(v).toMatchObject({ kind: "per-chat", chatId: "111", method: "sendPhoto" });
    expect(v?.gapMs).toBeLessThan(900);

    // 10 + 10 + 1 messages to a group within a minute: the 21st breaks the group limit.
    const media = Array.from({ length: 10 }, () => ({ type: "photo" as const, media: { source: small } }));
    await bot.telegram.sendMediaGroup(-222, media);
    await sleep(950);
    await bot.telegram.sendMediaGroup(-222, media);
    expect(double.rateViolations().filter((x) => x.chatId === "-222")).toEqual([]);
    await sleep(950);
    await bot.telegram.sendMessage(-222, "twenty-first");
    const groupViolations = double.rateViolations().filter((x) => x.chatId === "-222");
    expect(groupViolations).toEqual([expect.objectContaining({ kind: "per-group", method: "sendMessage", count: 21 })]);
    expect(double.rateViolations({ perGroupPerMinute: 25 }).filter((x) => x.chatId === "-222")).toEqual([]);
  });
});

function listen(server: Server): Promise<number> {
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
