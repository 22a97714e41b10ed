import { request, Agent } from "node:http";
import { connect } from "node:net";
import { Writable } from "node:stream";
import { createLogger } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { isValidSecretToken, setWebhookParams, startWebhookServer, webhookPath, type WebhookServer } from "./webhook.js";

const SECRET = "s3cret-Token_for-tests-0123456789";
const PATH = webhookPath(SECRET);

function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      done();
    },
  });
  const log = createLogger({ service: "bot", device: "test", level: "debug" }, stream);
  return { log, lines, text: () => lines.join("\n") };
}

let servers: WebhookServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(over: { onUpdate?: (u: unknown) => Promise<void> | void; maxBodyBytes?: number } = {}) {
  const sink = logSink();
  const updates: unknown[] = [];
  const server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    path: PATH,
    secretToken: SECRET,
    onUpdate: over.onUpdate ?? ((u) => void updates.push(u)),
    log: sink.log,
    ...(over.maxBodyBytes === undefined ? {} : { maxBodyBytes: over.maxBodyBytes }),
  });
  servers.push(server);
  const url = `http://127.0.0.1:${server.port}`;
  const post = (body: string, headers: Record<string, string> = { "x-telegram-bot-api-secret-token": SECRET }, path = PATH) =>
    fetch(url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { server, url, updates, sink, post };
}

const update = (id: number) => JSON.stringify({ update_id: id, message: { message_id: 1, chat: { id: 42, type: "private" }, text: "/status" } });

describe("startWebhookServer", () => {
  it("delivers an authenticated update once and answers an empty 200", async () => {
    const t = await start();
    const res = await t.post(update(7));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(t.updates).toEqual([JSON.parse(update(7))]);
  });

  it("delivers a re-sent update_id only once", async () => {
    const t = await start();
    for (const id of [7, 7, 8, 7]) expect((await t.post(update(id))).status).toBe(200);
    expect(t.updates.map((u) => (u as { update_id: number }).update_id)).toEqual([7, 8]);
  });

  it("refuses a wrong or missing secret with 401 and never logs the secret", async () => {
    const t = await start();
    const wrong = "wrong-secret-but-well-formed-000";
    const a = await t.post(update(1), { "x-telegram-bot-api-secret-token": wrong });
    const b = await t.post(update(2), {});
    const c = await t.post(update(3), { "x-telegram-bot-api-secret-token": SECRET.slice(0, -1) });
    expect([a.status, b.status, c.status]).toEqual([401, 401, 401]);
    expect(await a.json()).toEqual({ error: "unauthorized" });
    expect(t.updates).toEqual([]);
    const warns = t.sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === "warn");
    expect(warns).toHaveLength(3);
    expect(warns[0]).toMatchObject({ module: "webhook", remote: "127.0.0.1" });
    expect(t.sink.text()).not.toContain(wrong);
    expect(t.sink.text()).not.toContain(SECRET.slice(0, 16));
  });

  it("answers 404 off the path and 405 to other methods on it", async () => {
    const t = await start();
    expect((await t.post(update(1), undefined, "/telegram/" + "0".repeat(32))).status).toBe(404);
    expect((await t.post(update(1), undefined, PATH + "/x")).status).toBe(404);
    expect((await t.post(update(1), undefined, "/")).status).toBe(404);
    const get = await fetch(t.url + PATH, { headers: { "x-telegram-bot-api-secret-token": SECRET } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(t.updates).toEqual([]);
  });

  it("answers 400 to bodies that are not an update", async () => {
    const t = await start();
    for (const body of ["{not json", "[1]", "null", '{"message":{}}', '{"update_id":"7"}', '{"update_id":1.5}']) {
      const res = await t.post(body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/JSON|update_id/);
    }
    expect(t.updates).toEqual([]);
  });

  it("answers 413 to a body over the limit, declared or streamed", async () => {
    const t = await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ update_id: 1, pad: "x".repeat(64 * 1024) });
    expect((await t.post(big)).status).toBe(413);

    // Chunked and endless: the limit is enforced while reading, and the answer does not wait for an end.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    const cap = 2048; // 128 MiB, far beyond any socket buffer
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < cap) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(t.url + PATH, {
      method: "POST",
      headers: { "x-telegram-bot-api-secret-token": SECRET },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(cap);
    expect(t.updates).toEqual([]);
  });

  it("answers 200 before a slow handler finishes and logs a failing one", async () => {
    let release = (): void => undefined;
    let calls = 0;
    const t = await start({
      onUpdate: (u) => {
        calls++;
        if ((u as { update_id: number }).update_id === 1) return new Promise<void>((r) => (release = r));
        return Promise.reject(new Error("upload failed"));
      },
    });
    expect((await t.post(update(1))).status).toBe(200);
    expect((await t.post(update(2))).status).toBe(200);
    expect(calls).toBe(2);
    release();
    await new Promise((r) => setImmediate(r));
    const errors = t.sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === "error");
    expect(errors).toMatchObject([{ updateId: 2, err: { message: "upload failed" } }]);
  });

  it("closes within a second with an idle keep-alive and a half-sent request open", async () => {
    const t = await start();
    const agent = new Agent({ keepAlive: true });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        t.url + PATH,
        { method: "POST", agent, headers: { "x-telegram-bot-api-secret-token": SECRET, "content-type": "application/json" } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        },
      );
      req.on("error", reject);
      req.end(update(1));
    });
    expect(status).toBe(200);
    expect(agent.getName({ host: "127.0.0.1", port: t.server.port }) in agent.freeSockets).toBe(true);

    const raw = connect(t.server.port, "127.0.0.1");
    await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
    raw.write(`POST ${PATH} HTTP/1.1\r\nhost: x\r\nx-telegram-bot-api-secret-token: ${SECRET}\r\ncontent-length: 100\r\n\r\n{"upd`);
    const rawClosed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
    await new Promise((r) => setTimeout(r, 50));

    const began = Date.now();
    await t.server.close();
    expect(Date.now() - began).toBeLessThan(1000);
    await rawClosed;
    agent.destroy();
    await expect(fetch(t.url + PATH, { method: "POST", body: update(2) })).rejects.toThrow();
  });

  it("refuses to start without a usable secret", async () => {
    const { log } = logSink();
    await expect(
      startWebhookServer({ host: "127.0.0.1", port: 0, path: "/x", secretToken: "", onUpdate: () => undefined, log }),
    ).rejects.toThrow(/secret/);
  });
});

describe("isValidSecretToken", () => {
  it("takes 16–256 characters of Telegram's alphabet", () => {
    expect(isValidSecretToken("a".repeat(16))).toBe(true);
    expect(isValidSecretToken("A-z_0".repeat(51) + "x")).toBe(true);
    expect(isValidSecretToken("a".repeat(15))).toBe(false);
    expect(isValidSecretToken("a".repeat(257))).toBe(false);
    expect(isValidSecretToken("a".repeat(15) + "!")).toBe(false);
    expect(isValidSecretToken("a".repeat(15) + " ")).toBe(false);
  });
});

describe("webhookPath", () => {
  it("is stable per secret, differs between secrets and does not contain the secret", () => {
    expect(webhookPath(SECRET)).toBe(PATH);
    expect(PATH).toMatch(/^\/telegram\/[0-9a-f]{32}$/);
    expect(webhookPath(SECRET + "x")).not.toBe(PATH);
    expect(PATH).not.toContain(SECRET);
  });
});

describe("setWebhookParams", () => {
  it("appends the webhook path to the public URL, with or without a prefix", () => {
    expect(setWebhookParams("https://cam.example.org", SECRET)).toEqual({
      url: `https://cam.example.org${PATH}`,
      extra: { secret_token: SECRET, allowed_updates: ["message", "callback_query", "my_chat_member"], drop_pending_updates: false },
    });
    expect(setWebhookParams("https://cam.example.org:8443/bot/", SECRET).url).toBe(`https://cam.example.org:8443/bot${PATH}`);
  });

  it("refuses plain http, queries and weak secrets", () => {
    expect(() => setWebhookParams("http://cam.example.org", SECRET)).toThrow(/https/);
    expect(() => setWebhookParams("https://cam.example.org/?a=1", SECRET)).toThrow(/query/);
    expect(() => setWebhookParams("not a url", SECRET)).toThrow(/URL/);
    expect(() => setWebhookParams("https://cam.example.org", "short")).toThrow(/secret/);
  });
});
