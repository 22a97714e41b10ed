import Fastify, { type FastifyInstance, type RouteOptions } from "fastify";
import { Heartbeat, settingsKeys, subjects, type QualityPresets } from "@picket/contracts";
import { DeviceDirectory, createLogger, createMetrics, openPairedChats, openSettings, startHeartbeat, subscribeJson, type KV, type NatsConnection } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsRoutes } from "../services/web/src/settings/settings-routes.js";
import { testBus } from "./support/bus.js";
import { startNats, type NatsServer } from "./support/nats.js";
import { waitFor } from "./support/ports.js";

const log = createLogger({ service: "test", device: "test", level: "silent" });
/** The web's own device; the camera and pir services beat for it. */
const SELF = "pi";
/** A service is silent after 1 s here, so a test sees heartbeats stop quickly. */
const OFFLINE_AFTER_MS = 1_000;

let nats: NatsServer;
let nc: NatsConnection;
let kv: KV;
let app: FastifyInstance;
const routes: RouteOptions[] = [];
const stops: (() => void)[] = [];

beforeAll(async () => {
  nats = await startNats();
  nc = await testBus(nats.url, "web-settings");
  kv = await openSettings(nc);
  const directory = new DeviceDirectory(SELF, OFFLINE_AFTER_MS);
  // As the web's main.ts does: every device's heartbeats, from the bus.
  const sub = subscribeJson(nc, subjects.heartbeatsAll(), Heartbeat, (hb) => directory.record(hb, Date.now()), { log, metrics: createMetrics("web", SELF) });
  stops.push(() => sub.unsubscribe());
  app = Fastify();
  // The auth module sets the user; here everyone is the admin "ann".
  app.decorateRequest("user", undefined);
  app.addHook("onRequest", async (req) => {
    req.user = { name: "ann", role: "admin" };
  });
  app.addHook("onRoute", (r) => void routes.push(r));
  await settingsRoutes(app, { nc, log, directory, device: SELF });
  await app.ready();
});

afterAll(async () => {
  for (const stop of stops) stop();
  await app?.close();
  await nc?.close();
  await nats?.dispose();
});

/** A heartbeat of one service of a device, every 100 ms, until stopped. */
function beat(device: string, service: "camera" | "pir", vitals: Record<string, number>): () => void {
  const stop = startHeartbeat({ nc, device, service, version: `${service}-1.0`, intervalMs: 100, vitals: () => vitals });
  stops.push(stop);
  return stop;
}

const put = (url: string, body: unknown) => app.inject({ method: "PUT", url, payload: body as object });
const stored = async (key: string) => {
  const e = await kv.get(key);
  return e === null || e.operation !== "PUT" ? undefined : e.string();
};
const devices = async () => (await app.inject({ method: "GET", url: "/api/devices" })).json() as { self: string; devices: Record<string, unknown>[] };
const device = async (id: string) => (await devices()).devices.find((d) => d.id === id);

const PRESETS: QualityPresets = {
  presets: [
    { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
    { name: "low", width: 640, height: 360, bitrateKbps: 500, fps: 15 },
  ],
  phone: "low",
  desktop: "high",
};

describe("web settings routes (real nats-server)", () => {
  it("every route has tags and a summary, and every change and every Telegram route is for admins", () => {
    const mine = routes.filter((r) => String(r.url).startsWith("/api/"));
    expect(mine.length).toBeGreaterThanOrEqual(13);
    for (const r of mine) {
      const schema = r.schema as { tags?: string[]; summary?: string } | undefined;
      expect(schema?.tags?.length, `${String(r.method)} ${r.url}`).toBeGreaterThan(0);
      expect(schema?.summary, `${String(r.method)} ${r.url}`).toMatch(/\w/);
      const access = (r.config as { access?: string } | undefined)?.access;
      const changes = r.method !== "GET" && r.method !== "HEAD";
      expect(access, `${String(r.method)} ${r.url}`).toBe(changes || r.url.startsWith("/api/telegram") ? "admin" : "viewer");
    }
  });

  it("lists the devices with state, camera figures, versions and arming; degraded when only the camera's heartbeats stop, offline when all do", async () => {
    const stopCamera = beat(SELF, "camera", { capturing: 1, fps: 25, bitrateKbps: 1800, lastFrameAgeMs: 40 });
    const stopPir = beat(SELF, "pir", { armed: 1 });
    const online = await waitFor("the device online with both services", async () => {
      const d = await device(SELF);
      return d?.state === "online" && (d.services as Record<string, unknown>).pir !== undefined ? d : undefined;
    });
    const list = await devices();
    expect(list.self).toBe(SELF);
    expect(list.devices[0]?.id).toBe(SELF);
    expect(online).toMatchObject({
      problem: null,
      temperatureC: null,
      camera: { fps: 25, kbps: 1800, frameAgeMs: 40 },
      versions: { camera: "camera-1.0", pir: "pir-1.0" },
      armed: { mode: "armed", armedNow: true },
      snoozedUntil: null,
    });
    expect(online.uptimeS).toEqual(expect.any(Number));
    expect(online.lastSeenAgoMs).toBeLessThan(OFFLINE_AFTER_MS);
    expect((online.services as Record<string, { vitals: Record<string, number> }>).camera?.vitals).toEqual({ capturing: 1, fps: 25, bitrateKbps: 1800, lastFrameAgeMs: 40 });

    stopCamera();
    const degraded = await waitFor("the device degraded", async () => ((await device(SELF))?.state === "degraded" ? device(SELF) : undefined), 5_000);
    expect(degraded).toMatchObject({ camera: null, problem: expect.stringMatching(/^the camera service has been silent for \d+ s$/) });

    stopPir();
    const offline = await waitFor("the device offline", async () => ((await device(SELF))?.state === "offline" ? device(SELF) : undefined), 5_000);
    expect(offline).toMatchObject({ problem: expect.stringMatching(/^not heard from for \d+ s$/), uptimeS: null, camera: null });
  });

  it("a schedule is armed now as the pir service reports it in its heartbeat after the change", async () => {
    const schedule = { mode: "scheduled", schedule: [{ days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "00:00" }] };
    beat("porch", "camera", { capturing: 1, fps: 10, bitrateKbps: 500, lastFrameAgeMs: 50 });
    const vitals = { armed: 0 };
    stops.push(startHeartbeat({ nc, device: "porch", service: "pir", version: "1", intervalMs: 100, vitals: () => vitals }));
    await waitFor("porch heard", async () => (await device("porch"))?.state === "online");
    expect((await put("/api/devices/porch/arming", schedule)).statusCode).toBe(200);
    // The pir service says it is disarmed right now: the web does not claim otherwise.
    expect((await device("porch"))?.armed).toEqual({ mode: "scheduled", armedNow: false });
    vitals.armed = 1;
    await waitFor("armedNow from the pir's report", async () => ((await device("porch"))?.armed as { armedNow: boolean }).armedNow === true, 5_000);
    await put("/api/devices/porch/arming", { mode: "disarmed" });
    expect((await device("porch"))?.armed).toEqual({ mode: "disarmed", armedNow: false });
  });

  it("each PUT stores the contract's canonical JSON in the settings bucket, and GET reads it back", async () => {
    const id = SELF;
    const arming = { schedule: [{ to: "07:00", from: "22:30", days: [1, 2, 3, 4, 5] }], mode: "scheduled" };
    const res = await put(`/api/devices/${id}/arming`, arming);
    expect(res.statusCode).toBe(200);
    const canonical = { mode: "scheduled", schedule: [{ days: [1, 2, 3, 4, 5], from: "22:30", to: "07:00" }] };
    expect(res.json()).toEqual(canonical);
    expect(await stored(settingsKeys.arming(id))).toBe(JSON.stringify(canonical));

    // Defaults filled in, keys in the contract's order.
    expect((await put(`/api/devices/${id}/motion`, { zones: [{ polygon: [[0, 0], [0.5, 0], [0.5, 0.5]], name: "Front door" }], sensitivity: 7 })).statusCode).toBe(200);
    expect(await stored(settingsKeys.motion(id))).toBe('{"sensitivity":7,"masks":[],"zones":[{"name":"Front door","polygon":[[0,0],[0.5,0],[0.5,0.5]]}]}');
    expect((await put(`/api/devices/${id}/detection`, { mode: "pir|motion" })).json()).toEqual({ mode: "pir|motion" });
    expect(await stored(settingsKeys.detection(id))).toBe('{"mode":"pir|motion"}');
    expect((await put(`/api/devices/${id}/presets`, PRESETS)).statusCode).toBe(200);
    expect(await stored(settingsKeys.presets(id))).toBe(JSON.stringify(PRESETS));

    const snooze = await put(`/api/devices/${id}/snooze`, { minutes: 30 });
    const until = (snooze.json() as { until: number }).until;
    expect(until).toBeGreaterThan(Date.now() + 29 * 60_000);
    expect(JSON.parse((await stored(settingsKeys.snooze(id))) as string)).toEqual({ until, by: "web:ann" });

    const got = await app.inject({ method: "GET", url: `/api/devices/${id}/settings` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({
      arming: canonical,
      snooze: { until, by: "web:ann" },
      motion: { sensitivity: 7, masks: [], zones: [{ name: "Front door", polygon: [[0, 0], [0.5, 0], [0.5, 0.5]] }] },
      detection: { mode: "pir|motion" },
      presets: PRESETS,
      presetsSource: "settings",
    });
    expect((await device(id))?.snoozedUntil).toBe(until);

    expect((await put(`/api/devices/${id}/snooze`, { minutes: 0 })).json()).toEqual({ until: null });
    expect(await stored(settingsKeys.snooze(id))).toBeUndefined();
    expect((await device(id))?.snoozedUntil).toBeNull();

    expect((await app.inject({ method: "GET", url: "/api/notifications" })).json()).toEqual({ clip: true, silent: false, quietHours: null });
    const quiet = { quietHours: { to: "06:30", from: "22:00" }, silent: false, clip: false };
    expect((await put("/api/notifications", quiet)).statusCode).toBe(200);
    expect(await stored(settingsKeys.notifications())).toBe('{"clip":false,"silent":false,"quietHours":{"from":"22:00","to":"06:30"}}');
    expect((await app.inject({ method: "GET", url: "/api/notifications" })).json()).toEqual({ clip: false, silent: false, quietHours: { from: "22:00", to: "06:30" } });
  });

  it("a device's settings default where unset; presets come from the camera when none are stored, else the reason there are none", async () => {
    const id = "garage";
    beat(id, "camera", { capturing: 0, fps: 0, bitrateKbps: 0, lastFrameAgeMs: -1 });
    await waitFor("garage heard", async () => (await device(id)) !== undefined);
    const cameraOwn = { ...PRESETS, phone: "high" };
    const answering = nc.subscribe(subjects.cameraPresets(id), { callback: (_e, m) => m.respond(JSON.stringify(cameraOwn)) });

    const first = (await app.inject({ method: "GET", url: `/api/devices/${id}/settings` })).json();
    expect(first).toEqual({
      arming: { mode: "armed" },
      snooze: null,
      motion: { sensitivity: 5, masks: [], zones: [] },
      detection: { mode: "auto" },
      presets: cameraOwn,
      presetsSource: "camera",
    });
    await put(`/api/devices/${id}/presets`, PRESETS);
    expect((await app.inject({ method: "GET", url: `/api/devices/${id}/settings` })).json()).toMatchObject({ presets: PRESETS, presetsSource: "settings" });
    expect((await app.inject({ method: "DELETE", url: `/api/devices/${id}/presets` })).statusCode).toBe(204);
    expect(await stored(settingsKeys.presets(id))).toBeUndefined();
    expect((await app.inject({ method: "GET", url: `/api/devices/${id}/settings` })).json()).toMatchObject({ presets: cameraOwn, presetsSource: "camera" });

    answering.unsubscribe();
    await nc.flush();
    const none = (await app.inject({ method: "GET", url: `/api/devices/${id}/settings` })).json();
    expect(none).toMatchObject({ presets: null, presetsError: "the camera is not running on that device" });
    expect(none.presetsSource).toBeUndefined();
  });

  it("refuses bad bodies with a 400 naming the field, and stores nothing", async () => {
    const id = SELF;
    await put(`/api/devices/${id}/arming`, { mode: "armed" });
    await put(`/api/devices/${id}/motion`, { sensitivity: 5 });
    await put(`/api/devices/${id}/presets`, PRESETS);
    await put("/api/notifications", { clip: true });
    const before = await Promise.all([settingsKeys.arming(id), settingsKeys.motion(id), settingsKeys.presets(id), settingsKeys.notifications(), settingsKeys.snooze(id), settingsKeys.detection(id)].map(stored));
    const triangle = [[0, 0], [1, 0], [1, 1]];
    const cases: [string, unknown, RegExp][] = [
      [`/api/devices/${id}/arming`, { mode: "scheduled", schedule: [{ days: [1], from: "25:00", to: "07:00" }] }, /^schedule\.0\.from: must be HH:MM$/],
      [`/api/devices/${id}/arming`, { mode: "scheduled", schedule: [{ days: [1], from: "7:00", to: "08:00" }] }, /^schedule\.0\.from: must be HH:MM$/],
      [`/api/devices/${id}/arming`, { mode: "armed", until: 5 }, /^(body|until): /],
      [`/api/devices/${id}/motion`, { masks: [[[0, 0], [1, 1]]] }, /^masks\.0: .*3/],
      [`/api/devices/${id}/motion`, { sensitivity: "5" }, /^sensitivity: .*number/],
      [`/api/devices/${id}/motion`, { zones: [{ name: "door; rm -rf /", polygon: triangle }] }, /^zones\.0\.name: /],
      [`/api/devices/${id}/motion`, { zones: [{ name: "<b>door</b>", polygon: triangle }] }, /^zones\.0\.name: /],
      [`/api/devices/${id}/motion`, { sensitivity: 5, exec: "reboot" }, /^body: Unrecognized key.*exec/],
      [`/api/devices/${id}/detection`, { mode: "pir && reboot" }, /^mode: /],
      [`/api/devices/${id}/presets`, { ...PRESETS, presets: [{ ...PRESETS.presets[0], width: 1281 }] }, /^presets\.0\.width: width must be even/],
      [`/api/devices/${id}/presets`, { ...PRESETS, presets: [{ ...PRESETS.presets[0], name: "$(reboot)" }] }, /^presets\.0\.name: must be 1–32 of a–z 0–9 _ -$/],
      [`/api/devices/${id}/presets`, { ...PRESETS, presets: [{ ...PRESETS.presets[0], name: "<script>" }] }, /^presets\.0\.name: /],
      [`/api/devices/${id}/presets`, { ...PRESETS, phone: "tiny" }, /^phone: phone must name one of the presets \(high, low\)$/],
      [`/api/devices/${id}/snooze`, { minutes: 2000 }, /^minutes: must be 0 \(end the snooze\) to 1440 minutes$/],
      [`/api/devices/${id}/snooze`, { minutes: 1.5 }, /^minutes: must be whole minutes$/],
      ["/api/notifications", { quietHours: { from: "22:00", to: "24:00" } }, /^quietHours\.to: must be HH:MM$/],
      ["/api/notifications", { loud: true }, /^body: Unrecognized key.*loud/],
      ["/api/notifications", null, /^body: /],
    ];
    for (const [url, body, message] of cases) {
      const res = await put(url, body);
      expect(res.statusCode, `${url} ${JSON.stringify(body)}`).toBe(400);
      expect((res.json() as { error: string }).error, `${url} ${JSON.stringify(body)}`).toMatch(message);
    }
    const after = await Promise.all([settingsKeys.arming(id), settingsKeys.motion(id), settingsKeys.presets(id), settingsKeys.notifications(), settingsKeys.snooze(id), settingsKeys.detection(id)].map(stored));
    expect(after).toEqual(before);
  });

  it("a device id that is not one is a 400, a device never heard of a 404 that creates no key, and the web's own device is always known", async () => {
    const bad = await put(`/api/devices/${encodeURIComponent("pi.>")}/arming`, { mode: "armed" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: "id: must be a device id: 1–64 of A–Z a–z 0–9 _ -" });
    for (const [method, url, body] of [
      ["PUT", "/api/devices/typo-cam/arming", { mode: "disarmed" }],
      ["PUT", "/api/devices/typo-cam/snooze", { minutes: 10 }],
      ["DELETE", "/api/devices/typo-cam/presets", undefined],
      ["GET", "/api/devices/typo-cam/settings", undefined],
    ] as const) {
      const res = await app.inject({ method, url, ...(body === undefined ? {} : { payload: body }) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json()).toEqual({ error: 'no device "typo-cam" has been heard from' });
    }
    const keys: string[] = [];
    for await (const k of await kv.keys("devices.typo-cam.>")) keys.push(k);
    expect(keys).toEqual([]);
  });

  it("a pairing code made on the web pairs a chat in the bot's pairing logic; the chat is listed, and unpairing it from the web takes it out", async () => {
    const botNc = await testBus(nats.url, "bot");
    stops.push(() => void botNc.close());
    const bot = await openPairedChats(await openSettings(botNc), log);
    stops.push(() => bot.stop());

    const made = await app.inject({ method: "POST", url: "/api/telegram/pairing-code" });
    expect(made.statusCode).toBe(201);
    const { code, expiresAt } = made.json() as { code: string; expiresAt: number };
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(expiresAt).toBeGreaterThan(Date.now() + 59 * 60_000);

    const redeemed = await bot.redeem({ id: -1001234567890, title: "Family", type: "supergroup" }, code, "telegram:42");
    expect(redeemed).toMatchObject({ ok: true, already: false });
    const listed = await waitFor("the web to list the chat", async () => {
      const { chats } = (await app.inject({ method: "GET", url: "/api/telegram/chats" })).json() as { chats: { id: number }[] };
      return chats.some((c) => c.id === -1001234567890) ? chats : undefined;
    });
    expect(listed.find((c) => c.id === -1001234567890)).toEqual({ id: -1001234567890, type: "supergroup", title: "Family", pairedAt: expect.any(Number), pairedBy: "telegram:42", source: "code" });

    expect((await app.inject({ method: "DELETE", url: "/api/telegram/chats/-1001234567890" })).statusCode).toBe(204);
    await waitFor("the bot to see the chat unpaired", () => !bot.has(-1001234567890));
    expect(((await app.inject({ method: "GET", url: "/api/telegram/chats" })).json() as { chats: unknown[] }).chats).toEqual([]);
    expect((await app.inject({ method: "DELETE", url: "/api/telegram/chats/-1001234567890" })).statusCode).toBe(404);
    const bad = await app.inject({ method: "DELETE", url: "/api/telegram/chats/12;rm" });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { error: string }).error).toMatch(/^id: must be a Telegram chat id/);
    // The code worked once.
    expect(await bot.redeem({ id: 77, title: "Eve", type: "private" }, code, "telegram:66")).toEqual({ ok: false, reason: "no-code" });
  });
});
