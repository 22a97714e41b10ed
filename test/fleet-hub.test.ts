// A hub and three devices on one machine, as a household with three Picket cameras and a hub
// runs them: each device is its own nats-server (a leaf node of the hub's, logged in with its
// own credentials, with its own JetStream domain) with a real camera and PIR; the hub runs the failure detector (fleet),
// the bot, stream, web and Home Assistant bridge (with a real mosquitto). Checked as the
// household notices it: the hub's Live grid plays all three cameras; alarms reach the hub's
// timeline and bot with photo and clip, also one raised while a device's uplink was cut; the
// hub's web, bot and Home Assistant arm and disarm each device's own setting; a device that
// loses power is announced offline in Telegram within 10 s and back online when it returns;
// the hub's own restarts raise no alarm.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceStatusEvent, EVENTS_STREAM, FLEET_BUCKET, settingsKeys, subjects, type EventPage } from "@picket/contracts";
import { Kvm, jetstreamManager, openSettings, type NatsConnection } from "@picket/runtime";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newDevicePassword } from "../tools/stack/src/hub-registry.js";
import { deviceNatsConfig, hubNatsConfig } from "../tools/stack/src/nats-config.js";
import { ALLOWED, TOKEN } from "./support/bot.js";
import { testBus } from "./support/bus.js";
import { launchChromium } from "./support/chromium.js";
import { TcpGate, killNats, now, storedPresence } from "./support/faults.js";
import { startNats, type NatsServer } from "./support/nats.js";
import { freePort, waitFor } from "./support/ports.js";
import { recordReliability } from "./support/reliability.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { READY, startStack, type Stack } from "./support/stack.js";
import { startTelegramApi, updates, type ApiCall, type TelegramApiDouble } from "./support/telegram-api.js";
import { login } from "./support/web-session.js";
import { HomeAssistant, PASSWORD, USER, configTopics, startMosquitto } from "./support/mqtt.js";

const tag = Math.random().toString(36).slice(2, 6);
const DEVICES = [`door-${tag}`, `shed-${tag}`, `gate-${tag}`] as const;
const HUB = `hub-${tag}`;
/** Each device's own credentials, as `npm run hub -- add-device` makes them. */
const secrets = new Map(DEVICES.map((id) => [id, newDevicePassword()]));
/** The bound the issue sets for noticing a dead device. */
const DETECTION_BOUND_MS = 10_000;

const teardown: (() => Promise<unknown>)[] = [];
let hubNats: NatsServer;
let leafPort: number;
/** The uplink of the first device: it reaches the hub through this gate, which a test closes. */
let uplink: TcpGate;
let double: TelegramApiDouble;
let nc: NatsConnection;
let web: string;
const hub: Record<string, ServiceProcess> = {};
const devices = new Map<string, Stack>();

/** A small camera (2 cores run three of them and a browser) and the simulated PIR. */
const DEVICE_ENV = { PICKET_CAMERA_WIDTH: "320", PICKET_CAMERA_HEIGHT: "180", PICKET_CAMERA_FPS: "10", PICKET_CAMERA_BITRATE_KBPS: "300", PICKET_PRESENCE_MODE: "pir", PICKET_TZ: "UTC", PICKET_CLIP_PRE_S: "1", PICKET_CLIP_POST_S: "2" };

async function startDevice(id: string, natsPort?: number): Promise<Stack> {
  const hubPort = id === DEVICES[0] ? uplink.port : leafPort;
  const stack = await startStack({
    device: id,
    services: ["camera", "pir"],
    env: DEVICE_ENV,
    nats: {
      config: (port, store) =>
        deviceNatsConfig({ host: "127.0.0.1", port: natsPort ?? port, storeDir: store, serverName: id, hub: { url: `nats-leaf://${id}:${secrets.get(id)?.password ?? ""}@127.0.0.1:${hubPort}` } }),
    },
  });
  devices.set(id, stack);
  return stack;
}

/** The hub's service `name` with the hub's environment, waited for until ready. */
async function startHubService(name: "fleet" | "bot" | "stream" | "web" | "ha", env: Record<string, string>): Promise<ServiceProcess> {
  const proc = new ServiceProcess(name, env);
  hub[name] = proc;
  await proc.waitForLog((l) => (name === "fleet" ? /^fleet watching/ : name === "ha" ? /^Home Assistant bridge on/ : READY[name]).test(l.msg), 30_000, `${name} ready`);
  return proc;
}

/** Home Assistant, through a real mosquitto, watching the hub's bridge. */
let ha: HomeAssistant;

let hubEnv: Record<string, string>;
const registryFile = join(mkdtempSync(join(tmpdir(), "picket-hub-registry-")), "devices.json");
/** The hub's registry listing `ids` (as `npm run hub` writes it; the fleet reads the ids). */
const writeRegistry = (ids: readonly string[]) => writeFileSync(registryFile, JSON.stringify({ devices: ids.map((id) => ({ id, passwordHash: secrets.get(id)?.passwordHash, addedAt: new Date().toISOString() })) }));

/** The texts the household got about `device`, in order. */
const news = (device: string): string[] =>
  double
    .calls("sendMessage")
    .filter((c: ApiCall) => c.status === 200 && c.chatId === ALLOWED[0] && String(c.params.text).includes(device))
    .map((c) => String(c.params.text));

async function deviceEvents(device: string): Promise<DeviceStatusEvent[]> {
  const jsm = await jetstreamManager(nc);
  const out: DeviceStatusEvent[] = [];
  const info = await jsm.streams.info(EVENTS_STREAM, { subjects_filter: subjects.event(device, "device") }).catch(() => undefined);
  if (info === undefined) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => undefined);
    if (m !== undefined && m.subject === subjects.event(device, "device")) out.push(DeviceStatusEvent.parse(m.json()));
  }
  return out;
}

beforeAll(async () => {
  leafPort = await freePort();
  uplink = await TcpGate.start(leafPort);
  teardown.push(() => uplink.close());
  // The hub as `npm run hub -- add-device` leaves it: each device with its own user and password,
  // limited to its own subjects. It tells devices the gate's address (as PICKET_HUB_HOST does),
  // so the first device, reconnecting, cannot go round its closed uplink.
  hubNats = await startNats({
    config: (port, store) =>
      hubNatsConfig({
        host: "127.0.0.1",
        port,
        storeDir: store,
        serverName: HUB,
        leaf: { host: "127.0.0.1", port: leafPort, advertise: `127.0.0.1:${uplink.port}` },
        devices: DEVICES.map((id) => ({ id, passwordHash: secrets.get(id)?.passwordHash ?? "" })),
      }),
  });
  teardown.push(() => hubNats.dispose());
  double = await startTelegramApi(TOKEN);
  teardown.push(() => double.close());
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  // The registry `npm run hub -- add-device` keeps; the fleet follows only the devices it lists.
  writeRegistry(DEVICES);
  hubEnv = {
    ...baseEnv(hubNats.url, HUB),
    PICKET_ROLE: "hub",
    PICKET_FLEET_OPS_PORT: "0",
    PICKET_TELEGRAM_TOKEN: TOKEN,
    PICKET_TELEGRAM_API_ROOT: double.url,
    PICKET_TELEGRAM_CHATS: ALLOWED.join(","),
    PICKET_TZ: "UTC",
    PICKET_HTTP_PORT: String(httpPort),
    PICKET_HTTP_HOST: "127.0.0.1",
    PICKET_STREAM_PORT: String(streamPort),
    PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
    PICKET_FLEET_REGISTRY: registryFile,
  };
  await startHubService("fleet", hubEnv);
  await startHubService("bot", hubEnv);
  await startHubService("stream", hubEnv);
  await startHubService("web", hubEnv);
  const broker = await startMosquitto(teardown);
  ha = await HomeAssistant.connect(broker.port);
  teardown.push(() => ha.client.endAsync(true));
  await startHubService("ha", { ...hubEnv, PICKET_HA_OPS_PORT: "0", PICKET_MQTT_URL: `mqtt://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${broker.port}` });
  teardown.push(async () => {
    for (const name of ["ha", "web", "stream", "bot", "fleet"]) await hub[name]?.stop();
  });
  web = `http://127.0.0.1:${httpPort}`;
  nc = await testBus(hubNats.url, "fleet-test");
  teardown.push(() => nc.close());
  for (const id of DEVICES) await startDevice(id);
  teardown.push(async () => {
    for (const stack of devices.values()) await stack.stop().catch(() => undefined);
  });
}, 120_000);

afterAll(async () => {
  for (const step of teardown.splice(0).reverse()) await step().catch(() => undefined);
});

describe("a hub watching three devices", () => {
  it("tells the household once that each device joined, and shows all three cameras playing in the hub's Live grid", async () => {
    for (const id of DEVICES) await waitFor(`${id} joined`, () => news(id).find((t) => t.startsWith("🆕")), 20_000);
    for (const id of DEVICES) expect(news(id)).toEqual([`🆕 ${id} joined: the hub now watches it.`]);

    const browser: Browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await (await login(web)).addTo(context);
      const page: Page = await context.newPage();
      await page.goto(web);
      await page.getByTestId("live-grid").waitFor();
      const tiles = await waitFor("three tiles", async () => ((await page.getByTestId("tile").count()) === 3 ? true : undefined), 15_000);
      expect(tiles).toBe(true);
      expect(await page.getByTestId("tile").evaluateAll((els) => els.map((e) => e.getAttribute("data-device")).sort())).toEqual([...DEVICES].sort());
      const decoded = (id: string) => page.evaluate((d) => (window as unknown as { picket?: { players: Record<string, { stats: { decoded: number } }> } }).picket?.players[d]?.stats.decoded ?? 0, id);
      for (const id of DEVICES) {
        const first = await waitFor(`${id}: frames in the hub's grid`, async () => (await decoded(id)) || undefined, 30_000);
        await waitFor(`${id}: more frames`, async () => ((await decoded(id)) >= first + 5 ? true : undefined), 15_000);
      }
    } finally {
      await browser.close();
    }
  });

  it("shows a device's alarm in the hub's one Events timeline with its photo and clip, and the hub's bot alerts the household with its photo and clip", async () => {
    const id = DEVICES[2];
    const session = await login(web);
    // From the hub's bus, through the leaf node, to the device's simulated PIR.
    await nc.request(subjects.pirInject(id), JSON.stringify({ pulseMs: 300 }), { timeout: 5_000 });
    const entry = await waitFor(
      `${id}'s alarm in the hub's timeline`,
      async () => {
        const page = (await (await session.fetch("/api/events")).json()) as EventPage;
        return page.events.find((e) => e.device === id && e.triggers.includes("pir"));
      },
      20_000,
      250,
    );
    expect(entry.test).toBe(false);
    // Its photo and clip stay on the device; the hub's web reads them there (the device's JetStream domain).
    const photoFile = await waitFor(`${id}'s photo from the hub's web`, async () => {
      const res = await session.fetch(`/api/events/${entry.id}/snapshot.jpg`);
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
    }, 15_000, 250);
    expect(photoFile.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const clip = await waitFor(`${id}'s clip from the hub's web`, async () => {
      const res = await session.fetch(`/api/events/${entry.id}/clip.mp4`);
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
    }, 30_000, 500);
    expect(clip.subarray(4, 8).toString()).toBe("ftyp");
    // The hub's one bot alerts for every device, with the trigger frame from that device's camera.
    const photo = await double.waitForCalls("sendPhoto", 1, 15_000, (c) => c.chatId === ALLOWED[0] && String(c.params.caption).startsWith(`🚨 Someone is at ${id}`));
    expect(photo[0]?.files.photo?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // Its buttons act on that camera; no Disarm on an alert of one camera among several (/disarm disarms them all).
    const markup = JSON.parse(String(photo[0]?.params.reply_markup)) as { inline_keyboard: { callback_data?: string }[][] };
    const actions = markup.inline_keyboard.flat().map((b) => b.callback_data);
    expect(actions).toContain(`clip:${id}`);
    expect(actions).not.toContain("disarm");
    // And the clip, read from the device's media store, as a reply to that photo.
    const video = await double.waitForCalls("sendVideo", 1, 30_000, (c) => c.chatId === ALLOWED[0]);
    expect(video[0]?.files.video?.subarray(4, 8).toString()).toBe("ftyp");
    expect(Number(video[0]?.params.reply_to_message_id ?? JSON.parse(String(video[0]?.params.reply_parameters ?? "{}")).message_id)).toBe(photo[0]?.messageId);
  });

  it("arms and disarms the devices from the hub: its web's Settings and its bot's /arm and /disarm change each device's own setting, which the device follows", async () => {
    const [id, other] = [DEVICES[2], DEVICES[1]];
    const session = await login(web);
    const local = await testBus((devices.get(id) as Stack).nats.url, "fleet-test-settings");
    try {
      const onDevice = async () => (await (await openSettings(local)).get(settingsKeys.arming(id)))?.string();
      const pir = (devices.get(id) as Stack).get("pir");
      const armedNow = () => pir.logs.filter((l) => l.msg === "arming").at(-1)?.armedNow;
      // The hub's web writes the device's own bucket (through the device), and reads it back there.
      const put = await session.fetch(`/api/devices/${id}/arming`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "disarmed" }) });
      expect(put.status).toBe(200);
      expect(JSON.parse((await onDevice()) ?? "{}")).toEqual({ mode: "disarmed" });
      await waitFor(`${id}'s PIR disarmed`, () => (armedNow() === false ? true : undefined), 10_000);
      const read = (await (await session.fetch(`/api/devices/${id}/settings`)).json()) as { arming: { mode: string } };
      expect(read.arming.mode).toBe("disarmed");
      const list = (await (await session.fetch("/api/devices")).json()) as { devices: { id: string; armed: { mode: string } }[] };
      expect(list.devices.find((d) => d.id === id)?.armed.mode).toBe("disarmed");
      expect(list.devices.find((d) => d.id === other)?.armed.mode).not.toBe("disarmed");
      // A value the device's contract refuses is refused by the device too, and nothing changes there.
      const refused = JSON.parse((await nc.request(subjects.settingsWrite(id), JSON.stringify({ setting: "arming", value: "sometimes" }), { timeout: 5_000 })).string()) as { ok: boolean; error?: string };
      expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/^not a valid arming setting/) });
      expect(JSON.parse((await onDevice()) ?? "{}")).toEqual({ mode: "disarmed" });

      // The household's one bot arms every camera.
      double.pushUpdate(updates.text(Number(ALLOWED[0]), "/arm"));
      const armed = await double.waitForCalls("sendMessage", 1, 15_000, (c) => c.chatId === ALLOWED[0] && String(c.params.text).startsWith("✅ Armed:"));
      expect(String(armed[0]?.params.text)).toBe(`✅ Armed: ${[...DEVICES].sort().join(", ")}. You get a photo when someone is there.`);
      expect(await onDevice()).toBe("armed");
      await waitFor(`${id}'s PIR armed again`, () => (armedNow() === true ? true : undefined), 10_000);
      double.pushUpdate(updates.text(Number(ALLOWED[0]), "/disarm"));
      await double.waitForCalls("sendMessage", 1, 15_000, (c) => c.chatId === ALLOWED[0] && String(c.params.text).startsWith("⏸ Disarmed:"));
      expect(await onDevice()).toBe("disarmed");
      double.pushUpdate(updates.text(Number(ALLOWED[0]), "/arm"));
      await double.waitForCalls("sendMessage", 2, 15_000, (c) => c.chatId === ALLOWED[0] && String(c.params.text).startsWith("✅ Armed:"));
      expect(await onDevice()).toBe("armed");

      // /status on the hub: every camera, with its state and its own arming.
      double.pushUpdate(updates.text(Number(ALLOWED[0]), "/status"));
      const status = await double.waitForCalls("sendMessage", 1, 15_000, (c) => c.chatId === ALLOWED[0] && String(c.params.text).startsWith("Picket hub"));
      const lines = String(status[0]?.params.text).split("\n");
      for (const d of DEVICES) expect(lines).toContain(`• ${d}: online, armed`);

      // Snoozed from the hub's web, that camera's alarms are recorded but the hub's bot holds them back
      // (the other camera: this one's presence from the alarm above is still on, so it raises no new one).
      expect((await session.fetch(`/api/devices/${other}/snooze`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ minutes: 60 }) })).status).toBe(200);
      const snoozed = () => hub.bot?.logs.filter((l) => l.msg === "alert not sent: snoozed").length ?? 0;
      const held = snoozed();
      await nc.request(subjects.pirInject(other), JSON.stringify({ pulseMs: 300 }), { timeout: 5_000 });
      await waitFor("the snoozed alarm held back by the hub's bot", () => (snoozed() > held ? true : undefined), 20_000, 100);
      expect(double.calls("sendPhoto").filter((c) => String(c.params.caption).includes(other))).toEqual([]);
      expect((await session.fetch(`/api/devices/${other}/snooze`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ minutes: 0 }) })).status).toBe(200);
    } finally {
      await local.close();
    }
  });

  it("shows every device in Home Assistant from the hub: its armed switch arms the device itself and follows changes made elsewhere, its image is the device's newest alarm photo", async () => {
    const t = (d: string, name: string) => `picket/${d}/${name}`;
    for (const id of DEVICES) await waitFor(`${id} in Home Assistant`, () => (configTopics(id).every((c) => ha.latest.has(c)) ? true : undefined), 20_000);
    const [id, other] = [DEVICES[2], DEVICES[1]];
    // The alarm of the test above: its photo, read from the device that keeps it.
    const photo = await waitFor(`${id}'s snapshot image`, () => ha.latest.get(t(id, "snapshot")), 20_000);
    expect(photo.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const local = await testBus((devices.get(id) as Stack).nats.url, "fleet-test-ha");
    try {
      const onDevice = async () => (await (await openSettings(local)).get(settingsKeys.arming(id)))?.string();
      await ha.client.publishAsync(t(id, "armed/set"), "OFF", { qos: 1 });
      await waitFor(`${id} disarmed on the device`, async () => ((await onDevice()) === "disarmed" ? true : undefined), 10_000);
      await waitFor("the switch OFF", () => (ha.text(t(id, "armed")) === "OFF" && ha.json(t(id, "armed/attributes"))?.mode === "disarmed" ? true : undefined), 10_000);
      await ha.client.publishAsync(t(id, "armed/set"), "ON", { qos: 1 });
      await waitFor(`${id} armed on the device`, async () => ((await onDevice()) === "armed" ? true : undefined), 10_000);
      await waitFor("the switch ON", () => (ha.text(t(id, "armed")) === "ON" ? true : undefined), 10_000);
    } finally {
      await local.close();
    }
    // Disarmed from the hub's web: Home Assistant's switch follows (the device's PIR reports it, the bridge reads the setting).
    const session = await login(web);
    expect((await session.fetch(`/api/devices/${other}/arming`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "disarmed" }) })).status).toBe(200);
    await waitFor(`${other}'s switch OFF`, () => (ha.text(t(other, "armed")) === "OFF" && ha.json(t(other, "armed/attributes"))?.mode === "disarmed" ? true : undefined), 15_000);
    expect((await session.fetch(`/api/devices/${other}/arming`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "armed" }) })).status).toBe(200);
    await waitFor(`${other}'s switch ON`, () => (ha.text(t(other, "armed")) === "ON" ? true : undefined), 15_000);
  });

  it("brings an alarm raised while a device's link to the hub was down to the household and the timeline once the link is back", async () => {
    const id = DEVICES[0];
    const stack = devices.get(id) as Stack;
    const before = news(id).length;
    const photosBefore = double.calls("sendPhoto").filter((c) => String(c.params.caption).includes(id)).length;
    // The uplink fails (the device's router, its Wi-Fi): the device lives on, alone.
    await uplink.set("refuse");
    const cut = now();
    await waitFor(`${id} offline in Telegram`, () => news(id).slice(before).find((t) => t.startsWith("📴")), 20_000);
    const local = await testBus(stack.nats.url, "fleet-test-device");
    try {
      // Someone at the door meanwhile: the device notices and stores it, as it does without a hub.
      await local.request(subjects.pirInject(id), JSON.stringify({ pulseMs: 300 }), { timeout: 5_000 });
      const event = await waitFor(`the alarm stored on ${id}`, async () => (await storedPresence(local, id)).find((e) => e.state === "started" && e.triggers.includes("pir")), 15_000, 250);
      await waitFor(`${id}'s clip stored on the device`, () => stack.get("camera").logs.find((l) => l.eventId === event.id && l.msg === "event clip stored"), 20_000, 250);
      // Its settings cannot be read or changed from the hub meanwhile, and the hub says why.
      const session = await login(web);
      const unreachable = await session.fetch(`/api/devices/${id}/settings`);
      expect(unreachable.status).toBe(503);
      expect(((await unreachable.json()) as { error: string }).error).toMatch(/not reachable from the hub/);
      const refused = await session.fetch(`/api/devices/${id}/arming`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "disarmed" }) });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: string }).error).toMatch(/^door-\w+ did not take the setting/);
      // Nothing of it reached the hub: no alert, no timeline entry.
      expect(double.calls("sendPhoto").filter((c) => String(c.params.caption).includes(id))).toHaveLength(photosBefore);
      const inTimeline = async () => ((await (await session.fetch("/api/events")).json()) as EventPage).events.find((e) => e.id === event.id);
      expect(await inTimeline()).toBeUndefined();

      // The link is back: the hub takes what the device stored meanwhile, and the household gets the alert with its photo and clip.
      await uplink.set("open");
      const back = now();
      const photo = await double.waitForCalls("sendPhoto", photosBefore + 1, 30_000, (c) => c.chatId === ALLOWED[0] && String(c.params.caption).startsWith(`🚨 Someone is at ${id}`));
      const alertMs = now() - back;
      expect(photo.at(-1)?.files.photo?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(await waitFor(`${id}'s alarm in the hub's timeline`, inTimeline, 15_000, 250)).toMatchObject({ device: id, triggers: ["pir"] });
      const video = await double.waitForCalls("sendVideo", 1, 30_000, (c) => c.chatId === ALLOWED[0] && Number(c.params.reply_to_message_id ?? JSON.parse(String(c.params.reply_parameters ?? "{}")).message_id) === photo.at(-1)?.messageId);
      expect(video[0]?.files.video?.subarray(4, 8).toString()).toBe("ftyp");
      await waitFor(`${id} back online in Telegram`, () => news(id).slice(before).find((t) => t.startsWith("✅")), 20_000);
      // Once, not twice.
      expect(double.calls("sendPhoto").filter((c) => c.chatId === ALLOWED[0] && String(c.params.caption).startsWith(`🚨 Someone is at ${id}`))).toHaveLength(1);
      recordReliability("fleet-device-uplink-outage", {
        kind: "fault",
        fault: "a device's link to its hub is cut (connections refused) while someone is at the door, then restored",
        recoveryMs: Math.round(alertMs),
        measured: "link restored → the household's alert photo, sent by the hub's bot",
        events: 1,
        eventsLost: 0,
        alertsDuplicated: 0,
        notes: `link down for ${((back - cut) / 1000).toFixed(1)} s; the alarm was stored on the device and reached the hub's timeline and bot with its photo and clip once the link was back`,
      });
    } finally {
      await local.close();
    }
  });

  it("announces a device that lost power as offline within 10 s, and back online when it returns", async () => {
    const id = DEVICES[1];
    const stack = devices.get(id) as Stack;
    const before = news(id).length;
    const othersBefore = [DEVICES[0], DEVICES[2]].map((other) => news(other).length);
    // A power cut: the bus and every service die at once, nothing says goodbye.
    const cut = now();
    const encoder = stack.get("camera").pid;
    if (encoder !== undefined) execFileSync("pkill", ["-KILL", "-P", String(encoder)]); // the camera's ffmpeg dies with the power too
    for (const name of ["camera", "pir"] as const) stack.get(name).signal("SIGKILL");
    await killNats(stack.nats);
    const text = await waitFor(`${id} offline in Telegram`, () => news(id).slice(before).find((t) => t.startsWith("📴")), 20_000);
    const detectedMs = now() - cut;
    expect(text).toMatch(new RegExp(`^📴 ${id} is offline: not heard from for \\d+ s\\. Last heard `));
    expect(detectedMs).toBeLessThanOrEqual(DETECTION_BOUND_MS);
    // Only that device: the others were not called offline.
    [DEVICES[0], DEVICES[2]].forEach((other, i) => expect(news(other).slice(othersBefore[i]).filter((t) => t.startsWith("📴"))).toEqual([]));
    const down = now();

    // Power back: the same bus (port and store) and services.
    await stack.nats.start();
    for (const name of ["camera", "pir"] as const) {
      const proc = new ServiceProcess(name, { ...baseEnv(stack.nats.url, id), ...DEVICE_ENV });
      stack.services[name] = proc;
      await proc.waitForLog((l) => READY[name].test(l.msg), 30_000, `${name} ready again`);
    }
    const back = await waitFor(`${id} back online in Telegram`, () => news(id).slice(before).find((t) => t.startsWith("✅")), 20_000);
    expect(back).toMatch(new RegExp(`^✅ ${id} is back online after \\d+ s offline\\.$`));
    const events = await deviceEvents(id);
    expect(events.map((e) => `${e.previous}→${e.state}`)).toEqual(["new→online", "online→offline", "offline→online"]);
    recordReliability("fleet-device-power-cut", {
      kind: "fault",
      fault: "a device of a hub loses power (its nats-server, camera and pir killed with SIGKILL), then comes back",
      recoveryMs: Math.round(now() - down),
      measured: "device's bus started again → the household told it is back online",
      events: 2,
      eventsLost: 0,
      alertsDuplicated: 0,
      notes: `the household was told it was offline ${(detectedMs / 1000).toFixed(1)} s after the power cut (bound 10 s); the other two devices were not called offline`,
    });
  });

  it("raises no alarm when the hub itself restarts: its bus, then its detector", async () => {
    const before = DEVICES.map((id) => news(id).length);
    await hubNats.stop();
    await hubNats.start();
    await hub.fleet?.waitForMsg(/^bus back/, 30_000);
    await hub.fleet?.stop();
    await startHubService("fleet", hubEnv);
    // Long enough for any device to have been called offline twice over.
    const quiet = now();
    await waitFor("15 s with every device heard", async () => (now() - quiet > 15_000 ? true : undefined), 20_000, 500);
    expect(DEVICES.map((id) => news(id).slice(before[DEVICES.indexOf(id)]))).toEqual([[], [], []]);
    expect(hub.fleet?.logs.filter((l) => /is (offline|online|degraded)/.test(l.msg)).map((l) => l.msg)).toEqual([]);
    expect(hub.fleet?.logs.find((l) => /^fleet watching/.test(l.msg))).toMatchObject({ restored: 3 });
  });

  it("forgets a device removed from the hub: no news of it, no stored state, no feed of its events", async () => {
    const id = DEVICES[0];
    const before = news(id).length;
    // `npm run hub -- remove-device` takes it out of the registry (and cuts its link: it is switched off here).
    writeRegistry(DEVICES.filter((d) => d !== id));
    await hub.fleet?.waitForMsg(new RegExp(`^device ${id} was removed from the hub: forgotten`), 15_000);
    await (devices.get(id) as Stack).stop();
    const jsm = await jetstreamManager(nc);
    await waitFor("its feed gone", async () => ((await jsm.streams.info(EVENTS_STREAM)).config.sources ?? []).every((src) => src.external?.api !== `$JS.${id}.API`) || undefined, 10_000, 250);
    expect(((await jsm.streams.info(EVENTS_STREAM)).config.sources ?? []).map((src) => src.external?.api).sort()).toEqual(DEVICES.filter((d) => d !== id).map((d) => `$JS.${d}.API`).sort());
    expect((await (await new Kvm(nc).open(FLEET_BUCKET)).get(id))?.operation ?? "none").not.toBe("PUT");
    // Longer than the offline limit: a device taken away on purpose is not news.
    const quiet = now();
    await waitFor("10 s after it stopped", async () => (now() - quiet > 10_000 ? true : undefined), 15_000, 500);
    expect(news(id).slice(before)).toEqual([]);
  });
});
