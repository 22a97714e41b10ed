import { EventDeleted, Heartbeat, mediaNames, settingsKeys, subjects, type PresenceEvent } from "@picket/contracts";
import { VERSION, jetstream, openMediaReader, openSettings, type KV, type NatsConnection } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_PRESENCE, pulse } from "./support/bot.js";
import { testBus } from "./support/bus.js";
import { storedPresence } from "./support/faults.js";
import { ffprobe } from "./support/media.js";
import { HomeAssistant, PASSWORD, USER, configTopics, startMosquitto } from "./support/mqtt.js";
import { waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { startStack, type Cleanups, type Stack } from "./support/stack.js";

const OFFLINE_AFTER_MS = 10_000;

describe("Home Assistant bridge, with a real mosquitto", () => {
  const cleanups: Cleanups = [];
  let s: { stack: Stack; nc: NatsConnection };
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let ha: HomeAssistant;
  let bridge: ServiceProcess;
  let kv: KV;
  let device: string;
  let t: (name: string) => string;
  /** The newest alarm's id, whose photo the snapshot image shows. */
  let startedId = "";
  /** The ha service on this stack's bus, with the broker's credentials in PICKET_MQTT_URL. */
  const startBridge = (password = PASSWORD) => new ServiceProcess("ha", { ...baseEnv(s.stack.nats.url, device), PICKET_HA_OPS_PORT: "0", PICKET_MQTT_URL: `mqtt://${USER}:${encodeURIComponent(password)}@127.0.0.1:${broker.port}` });
  const refused = (reason: RegExp, on = () => bridge) => on().waitForLog((l) => l.msg === "ignored an MQTT command" && reason.test(String(l.reason)));

  beforeAll(async () => {
    const stack = await startStack({ services: ["camera", "pir"], env: QUICK_PRESENCE });
    cleanups.push(() => stack.stop());
    s = { stack, nc: await testBus(stack.nats.url) };
    cleanups.push(() => s.nc.close());
    device = s.stack.device;
    t = (name) => `picket/${device}/${name}`;
    broker = await startMosquitto(cleanups);
    ha = await HomeAssistant.connect(broker.port);
    cleanups.push(() => ha.client.endAsync(true));
    bridge = startBridge();
    cleanups.push(() => bridge.stop());
    await bridge.waitForMsg("Home Assistant bridge on");
    kv = await openSettings(s.nc);
  });

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it("publishes the four discovery configs of a camera after its heartbeats, in one device with the heartbeats' version, and its states", async () => {
    await waitFor("four discovery configs", () => configTopics(device).every((topic) => ha.latest.has(topic)), 20_000);
    for (const topic of configTopics(device)) {
      const config = ha.json(topic);
      expect(config?.device).toEqual({ identifiers: [`picket_${device}`], name: device, manufacturer: "Picket", model: "Picket security camera", sw_version: VERSION });
      expect(config?.availability).toEqual([{ topic: `picket/bridge/${device}/status` }, { topic: t("availability") }]);
    }
    expect(ha.json(configTopics(device)[1] as string)).toMatchObject({ command_topic: t("armed/set"), state_topic: t("armed") });
    await waitFor("the bridge and the camera online", () => ha.text(`picket/bridge/${device}/status`) === "online" && ha.text(t("availability")) === "online");
    // Nobody there yet; armed by PICKET_ARMED's default, which the pir service reports.
    expect(ha.text(t("presence"))).toBe("OFF");
    await waitFor("the armed switch's state", () => ha.text(t("armed")) === "ON" && ha.json(t("armed/attributes"))?.mode === "default");
  });

  it("on a hub's bus, makes every camera a device, and none of a device whose only services are the hub's", async () => {
    const beat = (d: string, service: Heartbeat["service"]) => JSON.stringify(Heartbeat.parse({ device: d, service, version: "9.9.9", at: Date.now(), uptimeS: 1, rssBytes: 1, cpuPct: 0, vitals: {} }));
    s.nc.publish(subjects.heartbeat("the-hub", "web"), beat("the-hub", "web"));
    s.nc.publish(subjects.heartbeat("the-hub", "fleet"), beat("the-hub", "fleet"));
    s.nc.publish(subjects.heartbeat("porch", "camera"), beat("porch", "camera"));
    await waitFor("the other camera's configs", () => configTopics("porch").every((topic) => ha.latest.has(topic)));
    expect((ha.json(configTopics("porch")[0] as string)?.device as { sw_version?: string }).sw_version).toBe("9.9.9");
    expect(ha.text("picket/porch/availability")).toBe("online");
    expect([...ha.latest.keys()].filter((topic) => topic.includes("the-hub"))).toEqual([]);
  });

  it("turns presence ON at a presence-started event and OFF at its end, shows it as the last event, and publishes the event's photo as a JPEG", async () => {
    const from = ha.history.length;
    await pulse(s.nc, s.stack);
    await waitFor("presence ON, then OFF", () => ha.since(from, t("presence")).join(",") === "ON,OFF", 20_000);
    const [started, ended] = (await storedPresence(s.nc, device)).slice(-2) as [PresenceEvent, PresenceEvent];
    expect([started.state, ended.state, ended.startedId]).toEqual(["started", "ended", started.id]);
    expect(ha.since(from, t("last_event"))).toEqual(["presence started", "presence ended"]);
    expect(ha.json(t("last_event/attributes"))).toEqual({ event_id: ended.id, kind: "presence", state: "ended", time: new Date(ended.at).toISOString(), trigger: ended.triggers.join("+"), test: false });

    const jpeg = await waitFor("the snapshot image", () => ha.latest.get(t("snapshot")), 20_000);
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(await ffprobe(jpeg)).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });
    // The very photo the camera stored for the event.
    const stored = await openMediaReader(s.nc).get(mediaNames.snapshot(started.id));
    expect(stored !== undefined && Buffer.compare(Buffer.from(stored), jpeg)).toBe(0);
  });

  it("disarms through the settings bucket when Home Assistant switches armed OFF, and the switch's state follows", async () => {
    await ha.client.publishAsync(t("armed/set"), "OFF", { qos: 1 });
    await waitFor("disarmed in the settings bucket", async () => (await kv.get(settingsKeys.arming(device)))?.string() === "disarmed");
    await waitFor("the switch OFF", () => ha.text(t("armed")) === "OFF" && ha.json(t("armed/attributes"))?.mode === "disarmed");
    await bridge.waitForLog((l) => l.msg === "arming changed from Home Assistant" && l.device === device && l.arming === "disarmed");
    // The pir service follows it as it follows the web and the bot.
    await s.stack.get("pir").waitForLog((l) => l.msg === "arming" && l.armedNow === false);
  });

  it("logs bad commands and malformed bus messages and changes nothing", async () => {
    const before = await kv.get(settingsKeys.arming(device));
    await ha.client.publishAsync(t("armed/set"), "maybe", { qos: 1 });
    await ha.client.publishAsync(t("armed/set"), "", { qos: 1 });
    await ha.client.publishAsync("picket/never-heard/armed/set", "ON", { qos: 1 });
    // `+` takes any one level: one that is no device id is refused by its name.
    await ha.client.publishAsync("picket/no.such.device/armed/set", "ON", { qos: 1 });
    await refused(/must be ON or OFF/);
    await refused(/payload is empty/);
    await refused(/no camera "never-heard" has been heard from/);
    await refused(/not an armed switch command topic/);

    const presenceBefore = ha.text(t("presence"));
    s.nc.publish(subjects.heartbeat(device, "pir"), "{not json");
    await jetstream(s.nc).publish(subjects.event(device, "presence"), JSON.stringify({ id: "bad-event-1", kind: "presence", state: "started", device }));
    await bridge.waitForLog((l) => l.msg === "dropped malformed message" && l.subject === subjects.heartbeat(device, "pir"));
    await bridge.waitForLog((l) => l.msg === "dropped malformed message" && l.subject === subjects.event(device, "presence"));

    const after = await kv.get(settingsKeys.arming(device));
    expect([after?.string(), after?.revision]).toEqual([before?.string(), before?.revision]);
    expect(ha.text(t("armed"))).toBe("OFF");
    expect(ha.text(t("presence"))).toBe(presenceBefore);
    expect(bridge.logs.filter((l) => l.msg === "arming changed from Home Assistant")).toHaveLength(1);
  });

  it("publishes discovery and every state again after mosquitto restarts and forgets them", async () => {
    const photo = ha.latest.get(t("snapshot"));
    await broker.stop();
    ha.latest.clear();
    await broker.start();
    await bridge.waitForMsg("reconnected to the MQTT broker; publishing everything again", 20_000);
    await waitFor("discovery and states again", () => configTopics(device).every((topic) => ha.latest.has(topic)) && ha.text(t("availability")) === "online" && ha.text(t("presence")) === "OFF" && ha.text(t("armed")) === "OFF" && ha.text(t("last_event")) === "presence ended", 20_000);
    const again = await waitFor("the snapshot image again", () => ha.latest.get(t("snapshot")), 20_000);
    expect(photo !== undefined && Buffer.compare(again, photo)).toBe(0);
    expect(ha.text(`picket/bridge/${device}/status`)).toBe("online");
  });

  it("survives a NATS restart: events still reach Home Assistant, and its switch arms through the settings bucket", async () => {
    const before = ha.latest.get(t("snapshot"));
    await s.stack.nats.stop();
    await s.stack.nats.start();
    await bridge.waitForMsg("reconnected to NATS", 20_000);
    await ha.client.publishAsync(t("armed/set"), "ON", { qos: 1 });
    await waitFor("armed in the settings bucket", async () => (await kv.get(settingsKeys.arming(device)))?.string() === "armed", 20_000);
    await waitFor("the switch ON", () => ha.text(t("armed")) === "ON", 20_000);

    const from = ha.history.length;
    await pulse(s.nc, s.stack);
    await waitFor("presence ON, then OFF again", () => ha.since(from, t("presence")).join(",") === "ON,OFF", 20_000);
    const attributes = ha.since(from, t("last_event/attributes")).map((text) => JSON.parse(text) as { event_id: string; state: string });
    startedId = attributes.find((a) => a.state === "started")?.event_id ?? "";
    const stored = await openMediaReader(s.nc).waitFor(mediaNames.snapshot(startedId), 20_000);
    await waitFor("the new event's photo", () => stored !== undefined && Buffer.compare(ha.latest.get(t("snapshot")) ?? Buffer.alloc(0), Buffer.from(stored)) === 0, 20_000);
    expect(before !== undefined && Buffer.compare(before, Buffer.from(stored ?? []))).not.toBe(0);
  });

  it("takes the photo off the broker when its event is deleted, as the web deletes one", async () => {
    expect(ha.latest.has(t("snapshot"))).toBe(true);
    const from = ha.history.length;
    const deleted: EventDeleted = { id: `deleted-${startedId}`, kind: "deleted", device, eventId: startedId, at: Date.now(), by: "admin" };
    await jetstream(s.nc).publish(subjects.event(device, "deleted"), JSON.stringify(EventDeleted.parse(deleted)));
    await waitFor("the snapshot removed", () => !ha.latest.has(t("snapshot")));
    // An empty retained message: the broker forgets the photo too.
    expect(ha.since(from, t("snapshot"))).toEqual([""]);
  });

  it("makes the camera unavailable once its heartbeats stop, after the offline limit", async () => {
    let lastBeat = 0;
    const beats = s.nc.subscribe(subjects.heartbeatsAll(device), {
      callback: (_e, m) => {
        if (/\.(camera|pir)$/.test(m.subject)) lastBeat = Date.now();
      },
    });
    cleanups.push(async () => beats.unsubscribe());
    await waitFor("the camera heartbeating and online", () => lastBeat > 0 && ha.text(t("availability")) === "online");
    const from = ha.history.length;
    await s.stack.get("pir").stop();
    await s.stack.get("camera").stop();
    await waitFor("availability offline", () => ha.since(from, t("availability")).includes("offline"), OFFLINE_AFTER_MS + 5_000);
    const silentMs = Date.now() - lastBeat;
    expect(silentMs).toBeGreaterThanOrEqual(OFFLINE_AFTER_MS - 100);
    expect(silentMs).toBeLessThanOrEqual(OFFLINE_AFTER_MS + 1_000);
  });

  it("stops within the deadline, saying offline for itself, and never logs the broker's password", async () => {
    const { code, ms } = await bridge.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8_000);
    await waitFor("the bridge's status offline", () => ha.text(`picket/bridge/${device}/status`) === "offline");
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), "0f-the-broker"]) expect(bridge.raw).not.toContain(secret);
    expect(bridge.raw).toContain(`mqtt://${USER}:***@127.0.0.1:${broker.port}`);
  });

  it("does not apply a command left retained on the broker when a bridge connects", async () => {
    await ha.client.publishAsync(t("armed/set"), "OFF", { qos: 1, retain: true });
    cleanups.push(() => ha.client.publishAsync(t("armed/set"), "", { qos: 1, retain: true }));
    const next = startBridge();
    cleanups.push(() => next.stop());
    await refused(/a retained command is not taken/, () => next);
    expect((await kv.get(settingsKeys.arming(device)))?.string()).toBe("armed");
  });

  it("exits 1 with a clear line when the broker refuses the password, and does not log it", async () => {
    const wrong = "Wr0ng-secret-Pw";
    const refusedBridge = startBridge(wrong);
    cleanups.push(() => refusedBridge.stop());
    const { code } = await refusedBridge.exited;
    expect(code).toBe(1);
    expect(refusedBridge.logs.find((l) => l.level === "fatal")?.msg).toBe("the MQTT broker refused the bridge; exiting");
    expect(refusedBridge.raw).toMatch(/refused the user name or password of PICKET_MQTT_URL/);
    expect(refusedBridge.raw).not.toContain(wrong);
  });
});
