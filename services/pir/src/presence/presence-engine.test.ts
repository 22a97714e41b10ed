import { describe, expect, it } from "vitest";
import { PresenceEvent } from "@picket/contracts";
import { ArmingPolicy } from "./arming-schedule.js";
import { PRESENCE_DEFAULTS, PresenceEngine, type PresenceInit } from "./presence-engine.js";

/** Monday 2024-06-03 12:00 UTC. */
const T0 = Date.UTC(2024, 5, 3, 12, 0);
const armed = new ArmingPolicy({ mode: "armed" }, "UTC");
const disarmed = new ArmingPolicy({ mode: "disarmed" }, "UTC");

/**
 * The engine with a hand-driven clock, run the way the service runs it: `advance` moves both
 * clocks and calls `tick` at every `nextDeadlineMono()` on the way. Every event is checked
 * against the contract schema.
 */
class Harness {
  at = T0;
  mono = 50_000;
  readonly events: PresenceEvent[] = [];
  readonly engine: PresenceEngine;
  private n = 0;

  constructor(init: Partial<PresenceInit> = {}, policy: ArmingPolicy = armed) {
    this.engine = new PresenceEngine({ device: "pi", newId: (at) => `ev-${at}-${++this.n}`, ...init }, policy);
    this.take(this.engine.tick(this.at, this.mono));
  }

  take(events: PresenceEvent[]): PresenceEvent[] {
    for (const e of events) PresenceEvent.parse(e);
    this.events.push(...events);
    return events;
  }

  advance(ms: number): this {
    const until = this.mono + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const due = this.engine.nextDeadlineMono();
      if (due === undefined || due > until) break;
      const step = Math.max(due - this.mono, 0);
      this.mono += step;
      this.at += step;
      this.take(this.engine.tick(this.at, this.mono));
    }
    this.at += until - this.mono;
    this.mono = until;
    return this;
  }

  pir(level: 0 | 1): this {
    this.take(this.engine.onPir(level, this.at, this.mono));
    return this;
  }

  /** High for `ms`, then low. */
  pulse(ms = 2_000): this {
    return this.pir(1).advance(ms).pir(0);
  }

  motion(moving: boolean, score = 0.2): this {
    this.take(this.engine.onMotion({ moving, score, at: this.at, zones: [] }, this.mono));
    return this;
  }

  /** Moving reports every `every` ms for `ms`, then `moving: false`. */
  moving(ms: number, every = 250): this {
    for (let t = 0; t < ms; t += every) this.motion(true).advance(Math.min(every, ms - t));
    return this.motion(false, 0);
  }

  setArming(policy: ArmingPolicy): this {
    this.take(this.engine.setArming(policy, this.at, this.mono));
    return this;
  }

  get started() {
    return this.events.filter((e) => e.state === "started");
  }
  get ended() {
    return this.events.filter((e) => e.state === "ended");
  }
}

describe("PresenceEngine: pir mode", () => {
  it("a single pulse starts presence at the rise; it ends eventGapMs after the fall", () => {
    const h = new Harness({ mode: "pir" });
    h.pir(1);
    expect(h.events).toEqual([{ id: `ev-${T0}-1`, kind: "presence", state: "started", device: "pi", at: T0, triggers: ["pir"], test: false }]);
    expect(h.engine.state).toMatchObject({ present: true, armed: true, currentEventId: `ev-${T0}-1`, pirHigh: true });
    // Held high: no deadline for the gap until it falls.
    expect(h.engine.nextDeadlineMono()).toBeUndefined();
    h.advance(3_000).pir(0);
    const fellAt = h.at;
    expect(h.engine.nextDeadlineMono()).toBe(h.mono + 30_000);
    h.advance(29_999);
    expect(h.ended).toEqual([]);
    h.advance(1);
    expect(h.ended).toEqual([
      { id: `ev-${fellAt}-2`, kind: "presence", state: "ended", device: "pi", at: fellAt, triggers: ["pir"], test: false, startedId: `ev-${T0}-1` },
    ]);
    expect(h.engine.state.present).toBe(false);
  });

  it("uses the defaults it documents", () => {
    expect(new Harness().engine.opts).toMatchObject({ ...PRESENCE_DEFAULTS, device: "pi" });
  });

  it("ignores PIR while disarmed, and does not count a PIR already high when arming starts", () => {
    const h = new Harness({ mode: "pir" }, disarmed);
    h.pulse().advance(5_000).pir(1);
    h.setArming(armed).advance(60_000);
    expect(h.events).toEqual([]);
    h.pir(0).advance(5_000).pir(1);
    expect(h.started).toHaveLength(1);
  });
});

describe("PresenceEngine: activation pattern 2 pulses / 10 s", () => {
  const activation = { pulses: 2, windowMs: 10_000 };

  it("one pulse raises nothing", () => {
    const h = new Harness({ activation }).pulse().advance(120_000);
    expect(h.events).toEqual([]);
  });

  it("two pulses within 10 s raise one alarm, at the second rise", () => {
    const h = new Harness({ activation }).pulse().advance(5_000);
    const secondAt = h.at;
    h.pulse();
    expect(h.started).toMatchObject([{ at: secondAt, triggers: ["pir"] }]);
  });

  it("two pulses 11 s apart raise nothing; a third 5 s after the second does", () => {
    const h = new Harness({ activation });
    h.pir(1).advance(1_000).pir(0).advance(10_000);
    h.pir(1).advance(1_000).pir(0);
    expect(h.events).toEqual([]);
    h.advance(4_000).pir(1);
    expect(h.started).toHaveLength(1);
  });
});

describe("PresenceEngine: motion mode", () => {
  it("motion shorter than motionMinMs raises nothing; persisting motion starts presence at the frame that completes it", () => {
    const h = new Harness({ mode: "motion", motionMinMs: 1_000 });
    h.moving(750).advance(10_000);
    expect(h.events).toEqual([]);
    const firstAt = h.at;
    h.moving(2_000);
    expect(h.started).toMatchObject([{ at: firstAt + 1_000, triggers: ["motion"] }]);
    h.advance(30_000);
    expect(h.ended).toMatchObject([{ at: firstAt + 1_750, triggers: ["motion"] }]);
  });

  it("reports further apart than motionStaleMs do not add up to persistence", () => {
    const h = new Harness({ mode: "motion", motionMinMs: 1_000, motionStaleMs: 3_000 });
    for (let i = 0; i < 5; i++) h.motion(true).advance(4_000);
    expect(h.events).toEqual([]);
  });

  it("PIR alone raises nothing in motion mode, but continues an event", () => {
    const h = new Harness({ mode: "motion" });
    h.pulse().advance(60_000);
    expect(h.events).toEqual([]);
    h.moving(1_500).advance(25_000).pulse().advance(25_000);
    expect(h.ended).toEqual([]);
    h.advance(5_000);
    expect(h.ended).toMatchObject([{ triggers: ["pir", "motion"] }]);
  });
});

describe("PresenceEngine: pir+motion mode", () => {
  const mode = "pir+motion" as const;

  it("a PIR pulse without motion raises nothing", () => {
    const h = new Harness({ mode }).pulse().advance(120_000);
    expect(h.events).toEqual([]);
  });

  it("motion without PIR raises nothing", () => {
    const h = new Harness({ mode }).moving(20_000).advance(60_000);
    expect(h.events).toEqual([]);
  });

  it("motion then PIR confirms; the event's time is the latest moving frame's", () => {
    const h = new Harness({ mode });
    h.moving(500);
    const lastFrameAt = h.at - 250;
    h.advance(3_000).pulse();
    expect(h.started).toMatchObject([{ at: lastFrameAt, triggers: ["pir", "motion"] }]);
  });

  it("PIR then motion confirms, at the motion frame", () => {
    const h = new Harness({ mode });
    h.pulse(500).advance(3_000);
    const frameAt = h.at;
    h.moving(500);
    expect(h.started).toMatchObject([{ at: frameAt, triggers: ["pir", "motion"] }]);
  });

  it("motion more than confirmWindowMs after the PIR fell raises nothing", () => {
    const h = new Harness({ mode, confirmWindowMs: 4_000 }).pulse(500).advance(4_001).moving(2_000).advance(60_000);
    expect(h.events).toEqual([]);
  });

  it("motion more than confirmWindowMs before the PIR rose raises nothing", () => {
    const h = new Harness({ mode, confirmWindowMs: 4_000 }).moving(500);
    h.advance(4_000).pulse().advance(60_000);
    expect(h.events).toEqual([]);
  });

  it("a PIR held high confirms motion that starts later, while it is still high", () => {
    const h = new Harness({ mode }).pir(1).advance(10_000).motion(true);
    expect(h.started).toHaveLength(1);
  });
});

describe("PresenceEngine: pir|motion mode", () => {
  it("either alone starts presence, listing what fired", () => {
    const h = new Harness({ mode: "pir|motion", cooldownMs: 0 });
    h.pulse().advance(60_000);
    h.moving(1_500).advance(60_000);
    expect(h.started.map((e) => e.triggers)).toEqual([["pir"], ["motion"]]);
  });
});

describe("PresenceEngine: event gap and cooldown", () => {
  it("pulses every 20 s for five minutes are one event: one started, one ended at the last fall", () => {
    const h = new Harness();
    let lastFall = 0;
    for (let i = 0; i < 15; i++) {
      h.pulse(3_000);
      lastFall = h.at;
      h.advance(17_000);
    }
    h.advance(60_000);
    expect(h.started).toHaveLength(1);
    expect(h.ended).toMatchObject([{ at: lastFall, startedId: h.started[0]?.id }]);
  });

  it("a PIR held high for ten minutes is one event, ending eventGapMs after it falls", () => {
    const h = new Harness().pir(1).advance(600_000);
    expect(h.ended).toEqual([]);
    h.pir(0).advance(29_000);
    expect(h.ended).toEqual([]);
    h.advance(1_000);
    expect(h.events.map((e) => e.state)).toEqual(["started", "ended"]);
  });

  it("a start within the cooldown after an end is suppressed; after it, presence starts again", () => {
    const h = new Harness({ eventGapMs: 30_000, cooldownMs: 30_000 });
    h.pulse(1_000).advance(30_000);
    expect(h.ended).toHaveLength(1);
    h.advance(10_000).pulse(1_000).advance(18_000);
    expect(h.started).toHaveLength(1);
    expect(h.engine.state.cooldownUntilMono).toBe(h.mono + 1_000);
    h.advance(1_000).pulse(1_000);
    expect(h.started).toHaveLength(2);
  });

  it("a PIR that rose during the cooldown and is still high when it ends starts presence then", () => {
    const h = new Harness({ cooldownMs: 30_000 });
    h.pulse(1_000).advance(30_000).advance(20_000).pir(1);
    expect(h.started).toHaveLength(1);
    const cooldownEndsAt = h.at + 10_000;
    h.advance(15_000);
    expect(h.started).toHaveLength(2);
    expect(h.started[1]).toMatchObject({ at: cooldownEndsAt, triggers: ["pir"] });
  });

  it("a pulse entirely inside the cooldown is merged into nothing", () => {
    const h = new Harness({ cooldownMs: 30_000 });
    h.pulse(1_000).advance(30_000).advance(5_000).pulse(3_000).advance(120_000);
    expect(h.events.map((e) => e.state)).toEqual(["started", "ended"]);
  });
});

describe("PresenceEngine: arming", () => {
  // Armed Monday 22:00 → Tuesday 07:00 UTC.
  const nightly = new ArmingPolicy({ mode: "scheduled", schedule: [{ days: [1], from: "22:00", to: "07:00" }] }, "UTC");

  it("follows schedule boundaries on tick", () => {
    const h = new Harness({}, nightly);
    h.advance(10 * 3_600_000 - 30_000); // Monday 21:59:30
    expect(h.engine.state.armed).toBe(false);
    h.pulse(1_000);
    expect(h.events).toEqual([]);
    expect(h.engine.nextDeadlineMono()).toBeLessThanOrEqual(h.mono + 29_000);
    h.advance(29_000);
    expect(h.engine.state.armed).toBe(true);
    expect(h.engine.armedAt(h.at)).toBe(true);
    h.pulse(1_000);
    expect(h.started).toHaveLength(1);
    // Present at the end of the window with the PIR held high: the boundary ends the event.
    h.advance(120_000).pir(1);
    expect(h.started).toHaveLength(2);
    h.advance(9 * 3_600_000);
    expect(h.ended).toHaveLength(2);
    const last = h.ended[1];
    expect(last?.startedId).toBe(h.started[1]?.id);
    expect(last?.at).toBe(Date.UTC(2024, 5, 4, 7, 0)); // PIR still high: the last sign is the boundary itself
    expect(h.engine.state).toMatchObject({ armed: false, present: false, pirHigh: true });
  });

  it("disarming mid-event ends it at once with the last sign of presence; re-arming needs fresh evidence, no cooldown", () => {
    const h = new Harness();
    h.pulse(2_000);
    const fellAt = h.at;
    h.advance(5_000).setArming(disarmed);
    expect(h.ended).toMatchObject([{ at: fellAt, startedId: h.started[0]?.id, triggers: ["pir"] }]);
    h.pulse(2_000).advance(60_000);
    expect(h.events).toHaveLength(2);
    h.setArming(armed).pulse(2_000);
    expect(h.started).toHaveLength(2);
  });

  it("notices within a minute when the wall clock is set forward into an armed window (NTP on a Pi without RTC)", () => {
    const h = new Harness({}, nightly);
    expect(h.engine.state.armed).toBe(false);
    expect(h.engine.nextDeadlineMono()).toBe(h.mono + 60_000);
    h.at += 10 * 3_600_000 + 5 * 60_000; // 22:05
    h.advance(60_000);
    expect(h.engine.state.armed).toBe(true);
  });

  it("describes the policy in its state", () => {
    expect(new Harness({}, disarmed).engine.state).toMatchObject({ armed: false, arming: "disarmed" });
  });
});

describe("PresenceEngine: clocks and test alarms", () => {
  it("a wall clock jumping back an hour neither ends nor doubles the event; durations follow mono", () => {
    const h = new Harness();
    h.pulse(2_000).advance(10_000);
    h.at -= 3_600_000;
    h.pulse(2_000);
    const lastFall = h.at;
    h.advance(29_000);
    expect(h.ended).toEqual([]);
    h.advance(1_000);
    expect(h.events.map((e) => e.state)).toEqual(["started", "ended"]);
    expect(h.ended[0]?.at).toBe(lastFall);
  });

  it("a mono older than one already seen counts as the latest", () => {
    const h = new Harness();
    h.pulse(1_000);
    h.take(h.engine.tick(h.at, h.mono - 40_000));
    expect(h.ended).toEqual([]);
    h.advance(30_000);
    expect(h.ended).toHaveLength(1);
  });

  it("a test alarm is a started test event whatever the arming, and changes nothing", () => {
    const h = new Harness({}, disarmed);
    expect(h.engine.testAlarm(T0)).toEqual({ id: `ev-${T0}-1`, kind: "presence", state: "started", device: "pi", at: T0, triggers: ["test"], test: true });
    expect(h.engine.state).toMatchObject({ present: false });
    const a = new Harness();
    a.engine.testAlarm(a.at);
    a.pulse();
    expect(a.started).toHaveLength(1);
    expect(a.engine.state.cooldownUntilMono).toBeUndefined();
  });
});

describe("PresenceEngine: mode changes (auto mode following the camera)", () => {
  it("a PIR held high while waiting for motion raises the alarm at once when motion stops being required", () => {
    const h = new Harness({ mode: "pir+motion" });
    h.pir(1).advance(2_000);
    expect(h.started).toHaveLength(0);
    h.take(h.engine.setMode("pir", h.at, h.mono));
    expect(h.started).toHaveLength(1);
    expect(h.started[0]?.triggers).toEqual(["pir"]);
  });

  it("switching to pir+motion does not raise anything by itself", () => {
    const h = new Harness({ mode: "pir" });
    h.take(h.engine.setMode("pir+motion", h.at, h.mono));
    h.pulse(500).advance(10_000);
    expect(h.started).toHaveLength(0);
  });
});
