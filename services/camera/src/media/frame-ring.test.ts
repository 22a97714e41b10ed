import { describe, expect, it } from "vitest";
import { T0, frame, ms } from "../../../../test/support/encoded-frames.js";
import { FrameRing, StillRing, frameRingMs } from "./frame-ring.js";


describe("FrameRing", () => {
  it("holds its duration of video by PTS, from the keyframe before it, and drops the oldest", () => {
    const ring = new FrameRing({ maxDurationMs: frameRingMs(5_000, 2_000) });
    for (let i = 0; i < 500; i++) ring.push(frame(i));
    // Newest at 19.96 s; 8 s back is 11.96 s; the keyframe before that is at 10 s.
    expect(ring.length).toBe(250);
    expect(ring.since(0)[0]?.ptsUs).toBe(250 * 40_000);
  });

  it("keeps the keyframe a full pre-roll needs when the camera's keyframes are far apart", () => {
    // An IP camera passed through with a keyframe every 10 s (250 frames).
    const ring = new FrameRing({ maxDurationMs: frameRingMs(5_000, 2_000) });
    for (let i = 0; i < 900; i++) {
      ring.push(frame(i, 250));
      const preRollStart = ms(i) - 5_000;
      const clip = ring.since(preRollStart * 1000);
      if (i >= 250) expect(clip[0]!.capturedUs / 1000, `frame ${i}`).toBeLessThanOrEqual(preRollStart);
    }
  });

  it("holds at most maxBytes", () => {
    const ring = new FrameRing({ maxDurationMs: 60_000, maxBytes: 10_000 });
    for (let i = 0; i < 100; i++) ring.push(frame(i, 50, 1000));
    expect(ring.length).toBe(10);
    expect(ring.bytes).toBe(10_000);
  });

  it("starts a clip at the last keyframe at or before the moment, up to the newest frame", () => {
    const ring = new FrameRing({ maxDurationMs: 10_000 });
    for (let i = 0; i < 200; i++) ring.push(frame(i));
    const from = ring.since(ms(120) * 1000);
    expect(from[0]?.ptsUs).toBe(100 * 40_000);
    expect(from).toHaveLength(100);
    expect(ring.since(ms(100) * 1000)[0]?.ptsUs).toBe(100 * 40_000);
    expect(ring.since(ms(99) * 1000)[0]?.ptsUs).toBe(50 * 40_000);
  });

  it("starts at its first keyframe when the moment is older than the ring", () => {
    const ring = new FrameRing({ maxDurationMs: 3_000 });
    for (let i = 0; i < 200; i++) ring.push(frame(i));
    // Newest at 7.96 s; 3 s back is 4.96 s; the ring starts at the keyframe at 4 s.
    expect(ring.since(T0)[0]?.ptsUs).toBe(100 * 40_000);
  });

  it("gives nothing without a keyframe, or when its frames ended before the moment (camera off then)", () => {
    const ring = new FrameRing({ maxDurationMs: 10_000 });
    for (let i = 1; i < 40; i++) ring.push(frame(i));
    expect(ring.since(ms(20) * 1000)).toEqual([]);
    for (let i = 40; i < 60; i++) ring.push(frame(i));
    expect(ring.since(ms(59) * 1000 + 60_000_000)).toEqual([]);
    expect(ring.since(ms(59) * 1000)).toHaveLength(10);
  });

  it("starts afresh after a capture gap or a change of size, so a clip never splices two runs", () => {
    const ring = new FrameRing({ maxDurationMs: 10_000 });
    for (let i = 0; i < 60; i++) ring.push(frame(i));
    ring.push(frame(200));
    expect(ring.length).toBe(1);
    ring.push(frame(201, 50, 1000, { key: true, width: 640, height: 360 }));
    expect(ring.length).toBe(1);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.bytes).toBe(0);
  });
});

describe("StillRing", () => {
  const jpeg = (n: number) => Buffer.from([n]);
  /** Stills at 2 fps from T0. */
  function ring(count = 20) {
    const r = new StillRing();
    for (let i = 0; i < count; i++) r.push(jpeg(i), T0 + i * 500_000);
    return r;
  }
  const t = (s: number) => T0 / 1000 + s * 1000;

  it("picks the still captured at or just before the moment", () => {
    const r = ring();
    expect(r.at(t(3.0))?.jpeg).toEqual(jpeg(6));
    expect(r.at(t(3.4))?.jpeg).toEqual(jpeg(6));
    expect(r.at(t(3.5))?.jpeg).toEqual(jpeg(7));
  });

  it("takes the nearest still after the moment when none is shortly before it", () => {
    const r = ring();
    expect(r.at(t(-0.3))?.jpeg).toEqual(jpeg(0));
    // The camera is slower than the trigger: the next still is the one.
    expect(r.at(t(9.5 + 1.2))?.jpeg).toEqual(jpeg(19));
  });

  it("has none for a moment far from every still (the camera was off)", () => {
    const r = ring();
    expect(r.at(t(30))).toBeUndefined();
    expect(r.at(t(-5))).toBeUndefined();
    expect(new StillRing().at(t(0))).toBeUndefined();
  });

  it("keeps about 10 s and a bounded count, and forgets stills from before a clock jump back", () => {
    const r = ring(60);
    expect(r.length).toBe(21);
    r.push(jpeg(99), T0);
    expect(r.length).toBe(1);
    const many = new StillRing({ maxCount: 5 });
    for (let i = 0; i < 10; i++) many.push(jpeg(i), T0 + i);
    expect(many.length).toBe(5);
    expect(many.newest?.jpeg).toEqual(jpeg(9));
  });
});
