import { describe, expect, it } from "vitest";
import { FakeTimers } from "@picket/runtime/testing";
import { Debouncer } from "./debounce.js";
import {
  HCSR501_DEFAULTS,
  Hcsr501Model,
  PIR_INTERPRETER_DEFAULTS,
  PirInterpreter,
  type Hcsr501ModelOptions,
  type PirInterpreterOptions,
} from "./hcsr501.js";

function model(opts: Partial<Hcsr501ModelOptions> = {}) {
  const timers = new FakeTimers();
  const out: [number, 0 | 1][] = [];
  const m = new Hcsr501Model({ ...HCSR501_DEFAULTS, warmupMs: 0, ...opts }, (level) => out.push([timers.now(), level]), timers);
  return { timers, out, m };
}

describe("Hcsr501Model", () => {
  it("repeat trigger: high while detecting, low holdMs after the last detection, then blocked", () => {
    const { timers, out, m } = model({ trigger: "repeat", holdMs: 5_000, blockMs: 3_000 });
    m.stimulus(true);
    timers.advance(20_000);
    expect(m.output).toBe(1);
    m.stimulus(false);
    timers.advance(4_999);
    expect(m.output).toBe(1);
    timers.advance(1);
    expect(out).toEqual([
      [0, 1],
      [25_000, 0],
    ]);
    // Blocked: detection is ignored, and a detection that ended inside the block is forgotten.
    timers.advance(1_000);
    expect(m.state).toBe("blocked");
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(10_000);
    expect(out).toHaveLength(2);
    expect(m.state).toBe("idle");
  });

  it("repeat trigger: a short detection during the high restarts the hold time", () => {
    const { timers, out, m } = model({ trigger: "repeat", holdMs: 5_000 });
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(4_000);
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(10_000);
    expect(out).toEqual([
      [0, 1],
      [9_000, 0],
    ]);
  });

  it("single trigger: falls holdMs after the rise while still detecting, and re-triggers after the block", () => {
    const { timers, out, m } = model({ trigger: "single", holdMs: 5_000, blockMs: 3_000 });
    m.stimulus(true);
    timers.advance(20_000);
    expect(out).toEqual([
      [0, 1],
      [5_000, 0],
      [8_000, 1],
      [13_000, 0],
      [16_000, 1],
    ]);
    m.stimulus(false);
    timers.advance(20_000);
    expect(out.at(-1)).toEqual([21_000, 0]);
    expect(m.output).toBe(0);
  });

  it("a detection that persists through the block triggers again when it ends", () => {
    const { timers, out, m } = model({ trigger: "repeat", holdMs: 3_000, blockMs: 3_000 });
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(4_000); // fell at 3000, blocked until 6000
    m.stimulus(true);
    timers.advance(2_000);
    expect(out).toEqual([
      [0, 1],
      [3_000, 0],
      [6_000, 1],
    ]);
  });

  it("warm-up: the output toggles at random and ignores detection, then settles low and works", () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const { timers, out, m } = model({ warmupMs: 60_000, random });
    expect(m.state).toBe("warming-up");
    timers.advance(30_000);
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(30_000);
    expect(out.length).toBeGreaterThan(5); // the toggles
    expect(m.output).toBe(0);
    expect(m.state).toBe("idle");
    expect(timers.pending).toBe(0);
    const before = out.length;
    m.stimulus(true);
    expect(out.length).toBe(before + 1);
    expect(m.output).toBe(1);
  });

  it("warm-up without noise keeps the pin low; detection seen at its end triggers at once", () => {
    const { timers, out, m } = model({ warmupMs: 60_000, warmupNoise: false });
    m.stimulus(true);
    timers.advance(59_999);
    expect(out).toEqual([]);
    timers.advance(1);
    expect(out).toEqual([[60_000, 1]]);
    m.dispose();
    expect(timers.pending).toBe(0);
  });
});

function interpreter(opts: Partial<PirInterpreterOptions> = {}, startedAt?: number) {
  const timers = new FakeTimers();
  const out: [number, 0 | 1][] = [];
  const p = new PirInterpreter({ ...PIR_INTERPRETER_DEFAULTS, ...opts }, (level, mono) => out.push([mono, level]), timers, startedAt);
  return { timers, out, p };
}

describe("PirInterpreter", () => {
  it("ignores levels during warm-up and says how long is left; then levels pass", () => {
    const { timers, out, p } = interpreter({ warmupMs: 60_000 });
    timers.advance(10_000);
    p.input(1, timers.t);
    timers.advance(500);
    p.input(0, timers.t);
    expect(out).toEqual([]);
    expect(p.status).toEqual({ state: "warming-up", warmupLeftMs: 49_500, warmupIgnored: 2, glitches: 0, chatterEvents: 0 });
    timers.advance(49_500);
    expect(p.status.state).toBe("ready");
    expect(p.status.warmupLeftMs).toBe(0);
    p.input(1, timers.t);
    timers.advance(3_000);
    p.input(0, timers.t);
    expect(out).toEqual([
      [60_000, 1],
      [63_000, 0],
    ]);
  });

  it("counts warm-up from the sensor's power-on, which may be before the service started", () => {
    const { p } = interpreter({ warmupMs: 60_000 }, -45_000);
    expect(p.status).toMatchObject({ state: "warming-up", warmupLeftMs: 15_000 });
  });

  it("reports nothing when warm-up ends with the pin high; its fall and next rise pass", () => {
    const { timers, out, p } = interpreter({ warmupMs: 1_000 });
    p.input(1, 0);
    timers.advance(5_000);
    expect(out).toEqual([]);
    p.input(0, timers.t);
    timers.advance(5_000);
    p.input(1, timers.t);
    expect(out).toEqual([[10_000, 1]]);
  });

  it("ignores a rise within blockMs of a fall as a glitch, and counts it", () => {
    const { timers, out, p } = interpreter({ warmupMs: 0, blockMs: 2_000 });
    p.input(1, 0);
    timers.advance(3_000);
    p.input(0, timers.t);
    timers.advance(500);
    p.input(1, timers.t);
    timers.advance(100);
    p.input(0, timers.t);
    timers.advance(5_000);
    expect(out).toEqual([
      [0, 1],
      [3_000, 0],
    ]);
    expect(p.status.glitches).toBe(1);
    p.input(1, timers.t);
    expect(out).toHaveLength(3);
  });

  it("a rise inside the block that is still high when the block ends is reported then", () => {
    const { timers, out, p } = interpreter({ warmupMs: 0, blockMs: 2_000 });
    p.input(1, 0);
    timers.advance(3_000);
    p.input(0, timers.t);
    timers.advance(1_500);
    p.input(1, timers.t);
    timers.advance(1_000);
    expect(out).toEqual([
      [0, 1],
      [3_000, 0],
      [5_000, 1],
    ]);
    expect(p.status.glitches).toBe(1);
  });

  it("10,000 raw edges in one second give at most a couple of levels; the pin is trusted again once calm", () => {
    const { timers, out, p } = interpreter({ warmupMs: 0 });
    let level: 0 | 1 = 0;
    for (let i = 0; i < 10_000; i++) {
      const mono = i / 10;
      timers.t = mono;
      level = level === 1 ? 0 : 1;
      p.rawEdge(mono);
      p.input(level, mono);
    }
    expect(p.status).toMatchObject({ state: "chattering", chatterEvents: 1 });
    timers.advance(10_000);
    expect(out.length).toBeLessThanOrEqual(2);
    expect(p.status.state).toBe("ready");
    // Calm, settled low: a later real rise passes.
    p.input(1, timers.t);
    expect(out.at(-1)).toEqual([timers.t, 1]);
  });

  it("after chattering stops with the pin high, the settled level is reported once", () => {
    const { timers, out, p } = interpreter({ warmupMs: 0, chatter: { maxEdges: 50, perMs: 1_000, calmMs: 5_000 } });
    for (let i = 0; i < 200; i++) {
      timers.t = i * 2;
      p.rawEdge(timers.t);
    }
    p.input(1, timers.t);
    expect(out).toEqual([]);
    timers.advance(4_999);
    expect(out).toEqual([]);
    timers.advance(1);
    expect(out).toEqual([[398 + 5_000, 1]]);
    timers.advance(60_000);
    expect(out).toHaveLength(1);
  });

  it("behind the real debouncer, a pin chattering for a second yields at most a couple of levels", () => {
    const timers = new FakeTimers();
    const out: [number, 0 | 1][] = [];
    const p = new PirInterpreter({ ...PIR_INTERPRETER_DEFAULTS, warmupMs: 0 }, (level, mono) => out.push([mono, level]), timers);
    const d = new Debouncer(0, 50, (level, mono) => p.input(level, mono), timers);
    let level: 0 | 1 = 0;
    for (let i = 0; i < 10_000; i++) {
      timers.advance(0.1);
      level = level === 1 ? 0 : 1;
      p.rawEdge(timers.t);
      d.input(level);
    }
    timers.advance(10_000);
    expect(out.length).toBeLessThanOrEqual(2);
    expect(p.status.chatterEvents).toBe(1);
  });

  it("handles 1,000,000 raw edges cheaply", () => {
    const { timers, p } = interpreter({ warmupMs: 0 });
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) p.rawEdge(i / 1_000);
    const ms = performance.now() - started;
    console.info(`PirInterpreter: 1,000,000 rawEdge calls in ${ms.toFixed(1)} ms`);
    expect(p.status.chatterEvents).toBe(1);
    expect(timers.pending).toBe(1); // one calm check, not one timer per edge
  });

  it("the model warming up behind the interpreter reports nothing, then a detection passes", () => {
    const timers = new FakeTimers();
    const out: [number, 0 | 1][] = [];
    const p = new PirInterpreter({ ...PIR_INTERPRETER_DEFAULTS }, (level, mono) => out.push([mono, level]), timers);
    const m = new Hcsr501Model({ ...HCSR501_DEFAULTS, random: () => 0.3 }, (level) => {
      p.rawEdge(timers.t);
      p.input(level, timers.t);
    }, timers);
    timers.advance(60_000);
    expect(out).toEqual([]);
    expect(p.status.warmupIgnored).toBeGreaterThan(5);
    timers.advance(5_000);
    m.stimulus(true);
    m.stimulus(false);
    timers.advance(10_000);
    expect(out).toEqual([
      [65_000, 1],
      [68_000, 0],
    ]);
    m.dispose();
    p.dispose();
  });
});
