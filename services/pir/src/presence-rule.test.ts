import { describe, expect, it } from "vitest";
import { PresenceEvent } from "@picket/contracts";
import { PresenceRule, newEventId } from "./presence-rule.js";

const T0 = 1_700_000_000_000;

function rule(cooldownMs = 30_000) {
  let n = 0;
  return new PresenceRule({ device: "pi", cooldownMs, newId: (at) => `ev-${at}-${++n}` });
}

describe("PresenceRule", () => {
  it("raises a PIR presence event on a rising edge while armed", () => {
    const r = rule();
    expect(r.armed).toBe(true);
    const event = r.onPir(1, T0);
    expect(event).toEqual({ id: `ev-${T0}-1`, kind: "presence", state: "started", device: "pi", at: T0, triggers: ["pir"], test: false });
    expect(PresenceEvent.safeParse(event).success).toBe(true);
  });

  it("ignores a falling edge", () => {
    expect(rule().onPir(0, T0)).toBeUndefined();
  });

  it("ignores rising edges while disarmed, and alarms again once re-armed", () => {
    const r = rule();
    r.setArming("disarmed");
    expect(r.armed).toBe(false);
    expect(r.onPir(1, T0)).toBeUndefined();
    r.setArming("armed");
    expect(r.onPir(1, T0 + 1)).toBeDefined();
  });

  it("stays quiet for the cooldown after an alarm, then alarms again", () => {
    const r = rule(30_000);
    expect(r.onPir(1, T0)).toBeDefined();
    expect(r.onPir(1, T0 + 1)).toBeUndefined();
    expect(r.onPir(1, T0 + 29_999)).toBeUndefined();
    expect(r.onPir(1, T0 + 30_000)).toMatchObject({ at: T0 + 30_000 });
  });

  it("does not extend the cooldown with rises that were suppressed", () => {
    const r = rule(30_000);
    r.onPir(1, T0);
    r.onPir(1, T0 + 20_000);
    expect(r.onPir(1, T0 + 30_000)).toBeDefined();
  });

  it("does not let a rise while disarmed start a cooldown", () => {
    const r = rule(30_000);
    r.setArming("disarmed");
    r.onPir(1, T0);
    r.setArming("armed");
    expect(r.onPir(1, T0 + 1000)).toBeDefined();
  });

  it("raises a test alarm while disarmed, marked as a test", () => {
    const r = rule();
    r.setArming("disarmed");
    const event = r.testAlarm(T0);
    expect(event).toMatchObject({ triggers: ["test"], test: true, state: "started", device: "pi", at: T0 });
    expect(PresenceEvent.safeParse(event).success).toBe(true);
  });

  it("does not start a cooldown with a test alarm", () => {
    const r = rule();
    r.testAlarm(T0);
    expect(r.onPir(1, T0 + 1)).toBeDefined();
    expect(r.testAlarm(T0 + 2)).toBeDefined();
  });
});

describe("newEventId", () => {
  it("matches the PresenceEvent id schema", () => {
    const id = newEventId(T0);
    const event = { id, kind: "presence", state: "started", device: "pi", at: T0, triggers: ["pir"], test: false };
    expect(PresenceEvent.safeParse(event).success).toBe(true);
    expect(PresenceEvent.safeParse({ ...event, id: newEventId(0, () => 0.999999) }).success).toBe(true);
  });

  it("sorts by time as plain strings", () => {
    const times = [T0, T0 + 1, T0 + 35, T0 + 1296, T0 + 86_400_000, T0 + 10 * 365 * 86_400_000];
    const ids = times.map((t, i) => newEventId(t, () => (i * 0.37) % 1));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it("differs for events at the same millisecond", () => {
    expect(newEventId(T0, () => 0.1)).not.toBe(newEventId(T0, () => 0.2));
  });
});

describe("clock jumps", () => {
  it("keeps the cooldown on the monotonic clock when the wall clock jumps back", () => {
    const rule = new PresenceRule({ device: "cam", cooldownMs: 30_000, newId: (at) => newEventId(at) });
    expect(rule.onPir(1, 1_800_000_000_000, 1_000)).toBeDefined();
    // The wall clock is set back an hour (NTP on a Pi without an RTC); 40 s pass for real.
    const later = rule.onPir(1, 1_800_000_000_000 - 3_600_000 + 40_000, 41_000);
    expect(later).toBeDefined();
    expect(later?.at).toBe(1_800_000_000_000 - 3_600_000 + 40_000);
  });
});
