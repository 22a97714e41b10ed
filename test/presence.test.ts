import { EVENTS_STREAM, PresenceEvent, SETTINGS_BUCKET, settingsKeys, subjects, type Heartbeat, type MotionReport } from "@picket/contracts";
import { Kvm, jetstreamManager, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { metricTotal, testBus } from "./support/bus.js";
import { waitFor } from "./support/ports.js";
import { runCliOn } from "./support/services.js";
import { startStack, type Stack } from "./support/stack.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function pirStack(env: Record<string, string> = {}): Promise<{ stack: Stack; nc: NatsConnection }> {
  // The emulated HC-SR501 blocks for 2.5 s after each hold by default; off here, so the tests' pulses can follow quickly.
  const stack = await startStack({ services: ["pir"], env: { PICKET_PRESENCE_COOLDOWN_MS: "1500", PICKET_PIR_BLOCK_MS: "0", ...env } });
  cleanups.push(() => stack.stop());
  const nc = await testBus(stack.nats.url);
  cleanups.push(() => nc.close());
  return { stack, nc };
}

/** Every presence event stored in JetStream for the device, oldest first. */
async function storedEvents(nc: NatsConnection, device: string): Promise<PresenceEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM);
  const events: PresenceEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
    if (m !== null && m.subject === subjects.event(device, "presence")) events.push(PresenceEvent.parse(m.json()));
  }
  return events;
}

const inject = (nc: NatsConnection, device: string, body: unknown) =>
  nc.request(subjects.pirInject(device), JSON.stringify(body), { timeout: 5_000 });
const testAlarm = async (nc: NatsConnection, device: string) =>
  JSON.parse((await nc.request(subjects.testAlarm(device), JSON.stringify({ requestedBy: "test" }), { timeout: 10_000 })).string()) as { ok: boolean; eventId: string };

const motion = (nc: NatsConnection, device: string, fields: Partial<MotionReport> = {}) =>
  nc.publish(subjects.motion(device), JSON.stringify({ device, at: Date.now(), moving: true, score: 0.08, box: { x: 0.4, y: 0.3, w: 0.1, h: 0.5 }, zones: [], lightChange: false, ...fields } satisfies MotionReport));

describe("presence (pir service)", () => {
  it("pir mode: a PIR pulse starts one presence with its media names, later pulses continue it, and quiet ends it", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "pir", PICKET_PRESENCE_GAP_MS: "2000", PICKET_PIR_HOLD_S: "1" });
    const edges: { level: number }[] = [];
    nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => edges.push(m.json()) });
    await inject(nc, stack.device, { pulseMs: 200 });
    await waitFor("the first event", async () => (await storedEvents(nc, stack.device)).length === 1);
    // The emulated HC-SR501 holds its output for its hold time after the pulse.
    await waitFor("the falling edge", () => edges.length >= 2);
    await inject(nc, stack.device, { pulseMs: 200 });
    const events = await waitFor("the presence ended", async () => {
      const all = await storedEvents(nc, stack.device);
      return all.length >= 2 ? all : undefined;
    }, 15_000);
    const [started, ended] = events;
    expect(started).toMatchObject({ kind: "presence", state: "started", device: stack.device, triggers: ["pir"], test: false });
    expect(started?.media).toEqual({ snapshot: `snapshots/${started?.id}.jpg`, clip: `clips/${started?.id}.mp4` });
    expect(ended).toMatchObject({ state: "ended", startedId: started?.id, triggers: ["pir"] });
    expect(events).toHaveLength(2);
    expect(edges.map((e) => e.level)).toEqual([1, 0, 1, 0]);
  });

  it("pir+motion mode: a PIR pulse alone or motion alone raises nothing; the two together raise one alarm naming both", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "pir+motion", PICKET_PRESENCE_CONFIRM_MS: "3000", PICKET_PIR_HOLD_S: "1" });
    const pir = stack.get("pir");
    const edges: { level: number }[] = [];
    nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => edges.push(m.json()) });
    // A warm draught: PIR only.
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the pulse's falling edge", () => edges.length === 2);
    // A cloud, then a moving shadow with no warm body: camera only (the PIR window has passed).
    await new Promise((r) => setTimeout(r, 3_600));
    motion(nc, stack.device, { moving: false, score: 0, box: null, lightChange: true });
    for (let i = 0; i < 5; i++) motion(nc, stack.device, { at: Date.now() + i * 200 });
    await nc.flush();
    await testAlarm(nc, stack.device);
    expect((await storedEvents(nc, stack.device)).map((e) => e.triggers)).toEqual([["test"]]);

    // A person: the PIR fires and the camera sees them move.
    await inject(nc, stack.device, { pulseMs: 300 });
    motion(nc, stack.device);
    const events = await waitFor("the confirmed alarm", async () => {
      const all = await storedEvents(nc, stack.device);
      return all.length === 2 ? all : undefined;
    });
    expect(events[1]).toMatchObject({ state: "started", test: false });
    expect([...(events[1]?.triggers ?? [])].sort()).toEqual(["motion", "pir"]);
    expect(pir.logs.some((l) => l.msg === "presence started")).toBe(true);
  });

  it("auto mode follows the camera: PIR alone without camera motion, PIR confirmed by motion while the camera's detector reports", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "auto", PICKET_PIR_HOLD_S: "1", PICKET_PRESENCE_GAP_MS: "1000", PICKET_PRESENCE_COOLDOWN_MS: "0" });
    const pir = stack.get("pir");
    const heartbeat = () =>
      nc.publish(
        subjects.heartbeat(stack.device, "camera"),
        JSON.stringify({ device: stack.device, service: "camera", version: "test", at: Date.now(), uptimeS: 1, rssBytes: 1, cpuPct: 1, vitals: { motionFps: 5 } } satisfies Heartbeat),
      );
    heartbeat();
    await pir.waitForMsg("camera motion available: PIR confirmed by motion raises alarms");
    const beats = setInterval(heartbeat, 1_000);
    cleanups.push(async () => clearInterval(beats));
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the PIR edges", async () => (await metricTotal((await pir.waitForMsg("serving /healthz and /metrics")).port as number, "picket_pir_edges_total")) >= 2);
    await testAlarm(nc, stack.device);
    expect((await storedEvents(nc, stack.device)).map((e) => e.triggers)).toEqual([["test"]]);

    // The camera stops reporting: PIR alone is trusted again rather than missing a burglar.
    clearInterval(beats);
    await pir.waitForMsg("camera motion not available: PIR alone raises alarms", 20_000);
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the PIR alarm", async () => (await storedEvents(nc, stack.device)).some((e) => e.triggers.includes("pir")));
  });

  it("raises nothing while disarmed in the settings bucket, and obeys a live re-arm and a weekly schedule", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "pir", PICKET_PRESENCE_COOLDOWN_MS: "0", PICKET_PRESENCE_GAP_MS: "1000", PICKET_PIR_HOLD_S: "1", PICKET_TZ: "UTC" });
    const kv = await new Kvm(nc).open(SETTINGS_BUCKET);
    await kv.put(settingsKeys.arming(stack.device), "disarmed");
    const pir = stack.get("pir");
    const edges: { level: number }[] = [];
    nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => edges.push(m.json()) });
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === false);
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the pulse's falling edge", () => edges.length === 2);
    // A test alarm still runs while disarmed: it is the positive control that the pulse was processed first.
    await testAlarm(nc, stack.device);
    expect((await storedEvents(nc, stack.device)).map((e) => e.triggers[0])).toEqual(["test"]);

    // A bad value is refused and the last good one stays.
    await kv.put(settingsKeys.arming(stack.device), "sometimes");
    await pir.waitForMsg("ignoring a bad setting; the last good value stays");

    await kv.put(settingsKeys.arming(stack.device), "armed");
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === true);
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the armed alarm", async () => (await storedEvents(nc, stack.device)).some((e) => e.triggers[0] === "pir"));
    await waitFor("the presence ended", async () => (await storedEvents(nc, stack.device)).some((e) => e.state === "ended"));

    // A schedule whose only window is the next hour but one: disarmed now.
    const hh = (h: number) => `${String(h % 24).padStart(2, "0")}:00`;
    const now = new Date();
    const later = { mode: "scheduled", schedule: [{ days: [0, 1, 2, 3, 4, 5, 6], from: hh(now.getUTCHours() + 2), to: hh(now.getUTCHours() + 3) }] };
    await kv.put(settingsKeys.arming(stack.device), JSON.stringify(later));
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === false && /schedule/i.test(String(l.arming)));
    const before = (await storedEvents(nc, stack.device)).length;
    const fallen = edges.length;
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the pulse's edges", () => edges.length === fallen + 2);
    await testAlarm(nc, stack.device);
    expect((await storedEvents(nc, stack.device)).slice(before).map((e) => e.triggers[0])).toEqual(["test"]);

    // A window around now: armed.
    const nowWindow = { mode: "scheduled", schedule: [{ days: [now.getUTCDay()], from: hh(now.getUTCHours()), to: hh(now.getUTCHours() + 1) }] };
    await kv.put(settingsKeys.arming(stack.device), JSON.stringify(nowWindow));
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === true && /schedule/i.test(String(l.arming)));
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the scheduled alarm", async () => (await storedEvents(nc, stack.device)).slice(before).some((e) => e.triggers[0] === "pir"));
  });

  it("a PIR stuck high stops counting after PICKET_PIR_STUCK_S: the presence ends, and the PIR is trusted again once it falls", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "pir", PICKET_PIR_STUCK_S: "2", PICKET_PRESENCE_GAP_MS: "1000", PICKET_PRESENCE_COOLDOWN_MS: "0", PICKET_PIR_HOLD_S: "1" });
    const pir = stack.get("pir");
    await inject(nc, stack.device, { level: 1 });
    await pir.waitForMsg("the PIR has been high for too long: treating it as stuck until it falls", 10_000);
    // Ended while the pin is still high.
    const events = await waitFor("the presence ended", async () => {
      const all = await storedEvents(nc, stack.device);
      return all.some((e) => e.state === "ended") ? all : undefined;
    });
    expect(events.map((e) => e.state)).toEqual(["started", "ended"]);
    await inject(nc, stack.device, { level: 0 });
    await pir.waitForMsg("the PIR changed again: trusting it again", 10_000);
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("a new presence", async () => (await storedEvents(nc, stack.device)).filter((e) => e.state === "started").length === 2);
  });

  it("npm run settings changes arming live, and refuses a bad schedule without storing it", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_MODE: "pir" });
    const pir = stack.get("pir");
    const cli = async (...args: string[]) => {
      const r = await runCliOn({ natsUrl: stack.nats.url, device: stack.device }, "settings-cli.js", ...args);
      return { code: r.code, out: r.out + r.err };
    };
    expect(await cli("arming", "disarmed")).toMatchObject({ code: 0 });
    await pir.waitForLog((l) => l.msg === "arming" && l.armedNow === false);
    const bad = await cli("arming", '{"mode":"scheduled","schedule":[{"days":[9],"from":"25:00","to":"07:00"}]}');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/HH:MM|days/);
    const shown = await cli("show");
    expect(shown.out).toContain(`devices.${stack.device}.arming = disarmed`);
    const schedule = '{"mode":"scheduled","schedule":[{"days":[1,2,3,4,5],"from":"22:00","to":"07:00"}]}';
    expect(await cli("arming", schedule)).toMatchObject({ code: 0 });
    await pir.waitForLog((l) => l.msg === "arming" && /22:00/.test(String(l.arming)));
  });

  it("logs, counts and answers malformed commands, and keeps working", async () => {
    const { stack, nc } = await pirStack();
    const pir = stack.get("pir");
    const ops = (await pir.waitForMsg("serving /healthz and /metrics")).port as number;
    for (const bad of ["not json", '{"pulseMs":-5}', '{"level":7}', "\u00ff\u00fe"]) {
      const reply = await nc.request(subjects.pirInject(stack.device), new TextEncoder().encode(bad), { timeout: 5_000 });
      expect(JSON.parse(reply.string())).toMatchObject({ ok: false });
    }
    const reply = await nc.request(subjects.testAlarm(stack.device), new TextEncoder().encode("[1,2]"), { timeout: 5_000 });
    expect(JSON.parse(reply.string())).toMatchObject({ ok: false });
    expect(await metricTotal(ops, "picket_bad_messages_total")).toBe(5);
    expect(pir.logs.filter((l) => l.msg === "dropped malformed message")).toHaveLength(5);
    expect((await testAlarm(nc, stack.device)).ok).toBe(true);
  });
});
