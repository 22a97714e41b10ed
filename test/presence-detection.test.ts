import { EVENTS_STREAM, PresenceEvent, settingsKeys, subjects, type MotionReport } from "@picket/contracts";
import { jetstreamManager, openSettings, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { testBus } from "./support/bus.js";
import { waitFor } from "./support/ports.js";
import { startStack } from "./support/stack.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

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

const inject = (nc: NatsConnection, device: string, body: unknown) => nc.request(subjects.pirInject(device), JSON.stringify(body), { timeout: 5_000 });
const testAlarm = (nc: NatsConnection, device: string) => nc.request(subjects.testAlarm(device), JSON.stringify({ requestedBy: "test" }), { timeout: 10_000 });
const motion = (nc: NatsConnection, device: string) =>
  nc.publish(subjects.motion(device), JSON.stringify({ device, at: Date.now(), moving: true, score: 0.08, box: { x: 0.4, y: 0.3, w: 0.1, h: 0.5 }, zones: [], lightChange: false } satisfies MotionReport));

describe("presence mode from the settings bucket (pir service)", () => {
  it("follows devices.<d>.detection live: pir+motion needs both, a bad value changes nothing, and deleting it goes back to PICKET_PRESENCE_MODE", async () => {
    const stack = await startStack({
      services: ["pir"],
      env: { PICKET_PRESENCE_MODE: "pir", PICKET_PRESENCE_CONFIRM_MS: "3000", PICKET_PRESENCE_GAP_MS: "1000", PICKET_PRESENCE_COOLDOWN_MS: "0", PICKET_PIR_HOLD_S: "1", PICKET_PIR_BLOCK_MS: "0" },
    });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const { device } = stack;
    const pir = stack.get("pir");
    const kv = await openSettings(nc);
    const edges: number[] = [];
    nc.subscribe(subjects.pirEdge(device), { callback: (_e, m) => edges.push((m.json() as { level: number }).level) });
    const modeLogs = () => pir.logs.filter((l) => l.msg === "presence mode");

    await kv.put(settingsKeys.detection(device), JSON.stringify({ mode: "pir+motion" }));
    await pir.waitForLog((l) => l.msg === "presence mode" && l.mode === "pir+motion" && l.source === "settings" && l.previous === "pir");

    // A PIR pulse alone no longer raises an alarm; the test alarm after it shows it was processed.
    await inject(nc, device, { pulseMs: 100 });
    await waitFor("the pulse's falling edge", () => edges.length === 2);
    await testAlarm(nc, device);
    expect((await storedEvents(nc, device)).map((e) => e.triggers)).toEqual([["test"]]);

    // A bad value is refused, and pir+motion stays in force.
    await kv.put(settingsKeys.detection(device), JSON.stringify({ mode: "pir&motion" }));
    await pir.waitForMsg("ignoring a bad setting; the last good value stays");
    expect(modeLogs()).toHaveLength(1);

    // PIR and camera motion together: one alarm naming both.
    await inject(nc, device, { pulseMs: 300 });
    motion(nc, device);
    const confirmed = await waitFor("the confirmed alarm", async () => (await storedEvents(nc, device)).find((e) => e.state === "started" && !e.test));
    expect([...confirmed.triggers].sort()).toEqual(["motion", "pir"]);
    await waitFor("that presence to end", async () => (await storedEvents(nc, device)).some((e) => e.state === "ended" && e.startedId === confirmed.id), 15_000);
    await waitFor("the PIR output to fall", () => edges.length === 4);

    // Deleted: PICKET_PRESENCE_MODE (pir) again, and a PIR pulse alone raises an alarm.
    await kv.delete(settingsKeys.detection(device));
    await pir.waitForLog((l) => l.msg === "presence mode" && l.mode === "pir" && l.source === "PICKET_PRESENCE_MODE");
    const before = (await storedEvents(nc, device)).length;
    await inject(nc, device, { pulseMs: 100 });
    const alone = await waitFor("the PIR-only alarm", async () => (await storedEvents(nc, device)).slice(before).find((e) => e.state === "started"));
    expect(alone.triggers).toEqual(["pir"]);
  });
});
