import { describe, expect, it } from "vitest";
import { FakeTimers } from "@picket/runtime/testing";
import { CameraDemand } from "./demand.js";

function setup(graceMs = 5_000) {
  const timers = new FakeTimers();
  const changes: boolean[] = [];
  const demand = new CameraDemand(graceMs, (w) => changes.push(w), timers);
  return { timers, changes, demand };
}

describe("CameraDemand", () => {
  it("wants the camera at the first lease, at once", () => {
    const { demand, changes } = setup();
    expect(demand.wanted).toBe(false);
    demand.hold("pir", 10_000);
    expect(changes).toEqual([true]);
    demand.hold("stream", 10_000);
    expect(changes).toEqual([true]);
  });

  it("lets the camera go a grace period after the last lease expires, not before", () => {
    const { demand, changes, timers } = setup(5_000);
    demand.hold("snapshot", 2_000);
    timers.advance(2_000 + 4_999);
    expect(changes).toEqual([true]);
    timers.advance(1);
    expect(changes).toEqual([true, false]);
    expect(timers.pending).toBe(0);
  });

  it("is reference-counted: one holder leaving does not stop the camera while another holds it", () => {
    const { demand, changes, timers } = setup(1_000);
    demand.hold("stream", 10_000);
    demand.hold("pir", 3_000);
    demand.release("stream");
    timers.advance(3_500);
    expect(changes).toEqual([true]);
    timers.advance(600);
    expect(changes).toEqual([true, false]);
  });

  it("keeps the camera while a holder renews its lease", () => {
    const { demand, changes, timers } = setup(1_000);
    for (let i = 0; i < 10; i++) {
      demand.hold("stream", 4_000);
      timers.advance(2_000);
    }
    expect(changes).toEqual([true]);
  });

  it("a new lease within the grace period keeps the camera running without a restart", () => {
    const { demand, changes, timers } = setup(5_000);
    demand.hold("snapshot", 1_000);
    timers.advance(3_000);
    demand.hold("snapshot", 1_000);
    timers.advance(3_000);
    expect(changes).toEqual([true]);
    timers.advance(3_001);
    expect(changes).toEqual([true, false]);
  });

  it("releasing the last lease starts the grace period; holders() lists remaining time", () => {
    const { demand, changes, timers } = setup(2_000);
    demand.hold("stream", 60_000);
    timers.advance(10_000);
    expect(demand.holders()).toEqual({ stream: 50_000 });
    demand.release("stream");
    expect(demand.holders()).toEqual({});
    timers.advance(2_000);
    expect(changes).toEqual([true, false]);
  });
});
