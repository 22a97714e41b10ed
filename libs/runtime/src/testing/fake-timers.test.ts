import { describe, expect, it } from "vitest";
import { FakeTimers } from "./fake-timers.js";

describe("FakeTimers", () => {
  it("runs due callbacks in time order, ties in scheduling order, with now() at their due time", () => {
    const timers = new FakeTimers(100);
    const ran: [string, number][] = [];
    timers.setTimeout(() => ran.push(["b", timers.now()]), 20);
    timers.setTimeout(() => ran.push(["a", timers.now()]), 10);
    timers.setTimeout(() => ran.push(["c", timers.now()]), 20);
    timers.setTimeout(() => ran.push(["late", timers.now()]), 50);
    timers.advance(30);
    expect(ran).toEqual([
      ["a", 110],
      ["b", 120],
      ["c", 120],
    ]);
    expect(timers.now()).toBe(130);
    expect(timers.pending).toBe(1);
  });

  it("never runs a cleared callback", () => {
    const timers = new FakeTimers();
    let ran = 0;
    const h = timers.setTimeout(() => ran++, 10);
    timers.clearTimeout(h);
    expect(timers.pending).toBe(0);
    timers.advance(100);
    expect(ran).toBe(0);
  });

  it("runs callbacks scheduled by callbacks when they fall due within the same advance", () => {
    const timers = new FakeTimers();
    const at: number[] = [];
    const tick = () => {
      at.push(timers.now());
      timers.setTimeout(tick, 10);
    };
    timers.setTimeout(tick, 10);
    timers.advance(35);
    expect(at).toEqual([10, 20, 30]);
    expect(timers.pending).toBe(1);
  });

  it("runs an overdue callback at the current time once time was set past it", () => {
    const timers = new FakeTimers();
    let seen: number | undefined;
    timers.setTimeout(() => (seen = timers.now()), 10);
    timers.t = 15;
    expect(seen).toBeUndefined();
    timers.advance(0);
    expect(seen).toBe(15);
  });
});
