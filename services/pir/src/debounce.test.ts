import { describe, expect, it } from "vitest";
import { FakeTimers } from "@picket/runtime/testing";
import { Debouncer } from "./debounce.js";

function setup(initial: 0 | 1 = 0, ms = 100) {
  const timers = new FakeTimers(1_000);
  const reports: [0 | 1, number][] = [];
  const d = new Debouncer(initial, ms, (level, at) => reports.push([level, at]), timers);
  return { timers, reports, d };
}

describe("Debouncer", () => {
  it("reports a first change at once, with its time", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    expect(reports).toEqual([[1, 1000]]);
    expect(d.level).toBe(1);
    expect(timers.pending).toBe(0);
  });

  it("ignores a reading equal to the current level", () => {
    const { reports, d } = setup(1);
    d.input(1);
    expect(reports).toEqual([]);
  });

  it("holds changes within the lockout and reports the settled level at its end", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    timers.advance(20);
    d.input(0);
    timers.advance(20);
    expect(reports).toEqual([[1, 1000]]);
    timers.advance(60);
    expect(reports).toEqual([
      [1, 1000],
      [0, 1100],
    ]);
    expect(d.level).toBe(0);
  });

  it("reports nothing at the end of the lockout when the level came back", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    timers.advance(10);
    d.input(0);
    timers.advance(10);
    d.input(1);
    timers.advance(500);
    expect(reports).toEqual([[1, 1000]]);
    expect(d.level).toBe(1);
  });

  it("reports a change after the lockout at once", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    timers.advance(100);
    d.input(0);
    expect(reports).toEqual([
      [1, 1000],
      [0, 1100],
    ]);
  });

  it("turns 10,000 chattering edges within one lockout into at most 2 reports and one timer", () => {
    const { timers, reports, d } = setup(0, 1000);
    let maxTimers = 0;
    for (let i = 0; i < 10_000; i++) {
      d.input(i % 2 === 0 ? 1 : 0);
      maxTimers = Math.max(maxTimers, timers.pending);
      if (i % 100 === 0) timers.advance(1);
    }
    timers.advance(1000);
    expect(reports.length).toBeLessThanOrEqual(2);
    expect(reports[0]).toEqual([1, 1000]);
    expect(reports.at(-1)?.[0]).toBe(0);
    expect(maxTimers).toBe(1);
    expect(timers.pending).toBe(0);
  });

  it("never reports twice within one lockout, even when the settle timer fires late", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    timers.advance(50);
    d.input(0); // held; settle timer due at 1100
    timers.t += 60; // 1110, without firing anything: the timer is late, and a new edge is handled first
    d.input(0);
    expect(reports).toEqual([
      [1, 1000],
      [0, 1110],
    ]);
    d.input(1); // the next edge in the same batch: held within the new lockout (until 1210)
    timers.advance(0); // only now does the overdue timer (due at 1100) fire
    expect(reports).toHaveLength(2);
    timers.advance(200);
    expect(reports).toEqual([
      [1, 1000],
      [0, 1110],
      [1, 1210],
    ]);
  });

  it("after dispose, a held change is never reported", () => {
    const { timers, reports, d } = setup();
    d.input(1);
    d.input(0);
    d.dispose();
    expect(timers.pending).toBe(0);
    timers.advance(1000);
    expect(reports).toEqual([[1, 1000]]);
  });
});
