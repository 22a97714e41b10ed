import { EVENTS_STREAM, PresenceEvent, SETTINGS_BUCKET, settingsKeys, subjects } from "@picket/contracts";
import { Kvm, jetstreamManager, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { metricTotal, testBus } from "./support/bus.js";
import { waitFor } from "./support/ports.js";
import { startStack, type Stack } from "./support/stack.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function pirStack(env: Record<string, string> = {}): Promise<{ stack: Stack; nc: NatsConnection }> {
  const stack = await startStack({ services: ["pir"], env: { PICKET_PRESENCE_COOLDOWN_MS: "1500", ...env } });
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

describe("presence (pir service)", () => {
  it("stores a presence event in JetStream for a PIR rise while armed, once per cooldown, and publishes the raw edges", async () => {
    const { stack, nc } = await pirStack();
    const edges: { level: number }[] = [];
    nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => edges.push(m.json()) });
    await inject(nc, stack.device, { pulseMs: 200 });
    await waitFor("the first event", async () => (await storedEvents(nc, stack.device)).length === 1);
    // A second rise inside the cooldown is the same presence, not a new alarm.
    await waitFor("the falling edge", () => edges.length >= 2);
    await inject(nc, stack.device, { pulseMs: 200 });
    await waitFor("four edges", () => edges.length >= 4);
    const alarm = await testAlarm(nc, stack.device);
    const events = await waitFor("the test alarm stored", async () => {
      const all = await storedEvents(nc, stack.device);
      return all.length === 2 ? all : undefined;
    });
    expect(events.map((e) => e.triggers)).toEqual([["pir"], ["test"]]);
    expect(events[0]).toMatchObject({ kind: "presence", state: "started", device: stack.device, test: false });
    expect(events[1]).toMatchObject({ id: alarm.eventId, test: true });
    expect(edges.map((e) => e.level)).toEqual([1, 0, 1, 0]);
  });

  it("raises nothing while disarmed in the settings bucket, and obeys a live re-arm", async () => {
    const { stack, nc } = await pirStack({ PICKET_PRESENCE_COOLDOWN_MS: "0" });
    const kv = await new Kvm(nc).open(SETTINGS_BUCKET);
    await kv.put(settingsKeys.arming(stack.device), "disarmed");
    const pir = stack.get("pir");
    const edges: { level: number }[] = [];
    nc.subscribe(subjects.pirEdge(stack.device), { callback: (_e, m) => edges.push(m.json()) });
    await pir.waitForLog((l) => l.msg === "arming" && l.arming === "disarmed");
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the pulse's falling edge", () => edges.length === 2);
    // A test alarm still runs while disarmed: it is the positive control that the pulse was processed first.
    await testAlarm(nc, stack.device);
    expect((await storedEvents(nc, stack.device)).map((e) => e.triggers[0])).toEqual(["test"]);

    await kv.put(settingsKeys.arming(stack.device), "armed");
    await pir.waitForLog((l) => l.msg === "arming" && l.arming === "armed" && l.source === "settings");
    await inject(nc, stack.device, { pulseMs: 100 });
    await waitFor("the armed alarm", async () => (await storedEvents(nc, stack.device)).length === 2);
    expect((await storedEvents(nc, stack.device)).map((e) => e.triggers[0])).toEqual(["test", "pir"]);
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
