import { rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { subjects } from "@picket/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { metricTotal, testBus } from "./support/bus.js";
import { ffprobe } from "./support/media.js";
import { freePort } from "./support/ports.js";
import { startStack, type ServiceName, type Stack } from "./support/stack.js";
import { startTelegramApi, type TelegramApiDouble } from "./support/telegram-api.js";
import { login, type WebSession } from "./support/web-session.js";

const TOKEN = "987654321:AAFt0kEnF0rTh3EndToEndT3stXyZ12345678";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const ALL: ServiceName[] = ["camera", "pir", "bot", "stream", "web"];

async function fullStack(): Promise<{ stack: Stack; api: TelegramApiDouble; web: string; s: WebSession }> {
  const api = await startTelegramApi(TOKEN);
  cleanups.push(() => api.close());
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  const stack = await startStack({
    services: ALL,
    env: {
      PICKET_TELEGRAM_TOKEN: TOKEN,
      PICKET_TELEGRAM_API_ROOT: api.url,
      PICKET_TELEGRAM_CHATS: "4242",
      PICKET_HTTP_PORT: String(httpPort),
      PICKET_HTTP_HOST: "127.0.0.1",
      PICKET_STREAM_PORT: String(streamPort),
      PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
    },
  });
  cleanups.push(() => stack.stop());
  const web = `http://127.0.0.1:${httpPort}`;
  return { stack, api, web, s: await login(web) };
}

const testAlarm = (s: WebSession, device: string) => s.fetch(`/api/devices/${device}/test-alarm`, { method: "POST" });

describe("the whole device stack", () => {
  it("runs a test alarm from the web API to a photo in Telegram, and stops every service cleanly within 10 s", async () => {
    const { stack, api, web, s } = await fullStack();
    const res = await testAlarm(s, stack.device);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(eventId).toMatch(/^ev-/);
    const [photo] = await api.waitForCalls("sendPhoto", 1, 20_000);
    expect(photo?.chatId).toBe("4242");
    expect(String(photo?.params.caption)).toMatch(/test/i);
    expect(await ffprobe(photo?.files.photo as Buffer)).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });

    const codes = await stack.stop();
    for (const name of ALL) {
      expect(codes[name]?.code, name).toBe(0);
      expect(codes[name]?.ms, name).toBeLessThan(10_000);
    }
  });

  it("survives a NATS restart: every service reconnects and the next test alarm still reaches Telegram", async () => {
    const { stack, api, web, s } = await fullStack();
    await stack.nats.stop();
    for (const name of ALL) await stack.get(name).waitForMsg("lost NATS; reconnecting");
    await stack.nats.start();
    for (const name of ALL) await stack.get(name).waitForMsg("reconnected to NATS", 20_000);

    const res = await testAlarm(s, stack.device);
    expect(res.status).toBe(202);
    const [photo] = await api.waitForCalls("sendPhoto", 1, 30_000);
    expect(await ffprobe(photo?.files.photo as Buffer)).toMatchObject({ width: 1280, height: 720 });
    // Live video flows again too.
    const snap = await s.fetch(`/api/devices/${stack.device}/snapshot.jpg`);
    expect(snap.status).toBe(200);
  });

  it("recovers when NATS comes back with an empty store: the events stream and the bot's consumer are made again, and an alarm stored before the bot noticed still reaches Telegram", async () => {
    const { stack, api, web, s } = await fullStack();
    // The bot is frozen through the outage, so pir makes the stream again and stores the
    // alarm before the bot can notice its consumer is gone.
    const bot = stack.get("bot");
    bot.signal("SIGSTOP");
    cleanups.push(async () => bot.signal("SIGCONT"));
    await stack.nats.stop();
    rmSync(join(stack.nats.storeDir, "jetstream"), { recursive: true, force: true });
    await stack.nats.start();
    for (const name of ALL.filter((n) => n !== "bot")) await stack.get(name).waitForMsg("reconnected to NATS", 20_000);

    const res = await testAlarm(s, stack.device);
    expect(res.status).toBe(202);
    await stack.get("pir").waitForMsg(/created it again/);
    bot.signal("SIGCONT");
    await bot.waitForMsg("alert consumer missing; creating it again", 30_000);
    const [photo] = await api.waitForCalls("sendPhoto", 1, 30_000);
    expect(photo?.chatId).toBe("4242");
  });

  it("logs and counts a malformed message on every subscribed subject, and every service keeps running", async () => {
    const { stack, api, web, s } = await fullStack();
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const d = stack.device;
    const ops = async (name: ServiceName) => (await stack.get(name).waitForMsg(/^serving \/healthz and \/metrics$/)).port as number;
    // A viewer so the stream service subscribes to the video subject.
    const ws = new (await import("ws")).default(`${web.replace("http", "ws")}/api/live/${d}/high`, { headers: s.wsHeaders() });
    cleanups.push(async () => ws.terminate());
    // A video frame through it proves the stream service's subscription is live.
    await new Promise<void>((resolve) => ws.on("message", (_d: unknown, isBinary: boolean) => isBinary && resolve()));

    nc.publish(subjects.video(d, "high"), new Uint8Array([0, 0, 0, 1, 9]));
    nc.publish(subjects.heartbeat(d, "camera"), "{\"device\":\"x\"}");
    nc.publish(subjects.pirInject(d), "garbage");
    nc.publish(subjects.testAlarm(d), "{\"requestedBy\":42}");
    nc.publish(subjects.snapshot(d), "{");
    nc.publish(subjects.event(d, "presence"), "not an event");
    await nc.flush();

    const expectCounted = async (name: ServiceName, port: number, n: number) => {
      await stack.get(name).waitForMsg("dropped malformed message");
      expect(await metricTotal(port, "picket_bad_messages_total"), name).toBeGreaterThanOrEqual(n);
    };
    await expectCounted("stream", await ops("stream"), 1);
    await expectCounted("pir", await ops("pir"), 2);
    await expectCounted("camera", await ops("camera"), 1);
    await stack.get("web").waitForMsg("dropped malformed message");
    expect(await metricTotal(await ops("web"), "picket_bad_messages_total")).toBeGreaterThanOrEqual(1);
    await stack.get("bot").waitForMsg("dropped malformed message", 20_000);

    // Still working end to end.
    expect((await testAlarm(s, d)).status).toBe(202);
    await api.waitForCalls("sendPhoto", 1, 20_000);
    for (const name of ALL) expect(stack.get(name).logs.some((l) => l.level === "fatal"), name).toBe(false);
  });

  it("answers bad HTTP requests with clear errors and sends security headers", async () => {
    const { stack, web, s } = await fullStack();
    const page = await fetch(`${web}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    const badId = await s.fetch(`/api/devices/${encodeURIComponent("../etc")}/test-alarm`, { method: "POST" });
    expect(badId.status).toBe(400);
    const unknown = await s.fetch(`/api/devices/no-such-device/test-alarm`, { method: "POST" });
    expect(unknown.status).toBe(503);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/not running/);
    const badBody = await s.fetch(`/api/devices/${stack.device}/pir`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"pulseMs":"long"}' });
    expect(badBody.status).toBe(400);
    const notJson = await s.fetch(`/api/devices/${stack.device}/pir`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
    const huge = await s.fetch(`/api/devices/${stack.device}/pir`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pad: "x".repeat(200_000) }) });
    expect(huge.status).toBe(413);
    expect((await fetch(`${web}/nope`)).status).toBe(401);
    expect((await s.fetch("/nope")).status).toBe(404);

    const snap = await s.fetch(`/api/devices/${stack.device}/snapshot.jpg`);
    expect(snap.headers.get("content-type")).toBe("image/jpeg");
    expect(await ffprobe(Buffer.from(await snap.arrayBuffer()))).toMatchObject({ width: 1280, height: 720 });
    const devices = (await (await s.fetch(`/api/devices`)).json()) as { self: string; devices: { id: string }[] };
    expect(devices.self).toBe(stack.device);

    // Websocket upgrades to odd paths, reset by the client mid-answer, crash nothing.
    for (const path of ["/favicon.ico", "/api/live/bad%20name/high"]) {
      const socket = connect(Number(new URL(web).port), "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${web}/healthz`)).status).toBe(200);
    expect(stack.get("web").logs.some((l) => /ECONNRESET/.test(l.msg) || l.level === "fatal")).toBe(false);
  });
});
