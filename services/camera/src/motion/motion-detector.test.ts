import { describe, expect, it } from "vitest";
import type { MotionSettings, Polygon } from "@picket/contracts";
import { MotionDetector, type MotionResult } from "./motion-detector.js";
import { ABSORB_AFTER_S } from "./tuning.js";

const W = 320;
const H = 180;
const settings = (over: Partial<MotionSettings> = {}): MotionSettings => ({ sensitivity: 5, masks: [], zones: [], ...over });
const rect = (x0: number, y0: number, x1: number, y1: number): Polygon => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];

interface Block {
  x: number;
  y: number;
  w: number;
  h: number;
  lum: number;
}
interface Look {
  gain?: number;
  offset?: number;
  /** Temporal noise σ, grey levels. */
  noise?: number;
  blocks?: Block[];
}

/** A textured scene, like a camera's, with optional blocks ("people"), a light change and sensor noise; deterministic per seed. */
function scene(seed = 1) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  // Normal noise from a table at a random offset per frame: fast, and different in every frame.
  const table = Float32Array.from({ length: 1 << 17 }, gauss);
  const texture = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) texture[y * W + x] = 115 + 40 * Math.sin(x / 9) * Math.cos(y / 7) + 20 * Math.sin((x + 2 * y) / 23);
  }
  return (look: Look = {}): Uint8Array => {
    const f = Float32Array.from(texture);
    for (const b of look.blocks ?? []) {
      for (let y = Math.max(0, b.y); y < Math.min(H, b.y + b.h); y++) {
        for (let x = Math.max(0, b.x); x < Math.min(W, b.x + b.w); x++) f[y * W + x] = b.lum;
      }
    }
    const out = new Uint8Array(W * H);
    const { gain = 1, offset = 0, noise = 2 } = look;
    const start = Math.floor(rand() * table.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(gain * f[i]! + offset + noise * table[(start + i) & (table.length - 1)]!)));
    return out;
  };
}

/** Pushes frames at `fps` from t = 0; returns the results. */
function run(detector: MotionDetector, frames: Uint8Array[], fps = 5, startMs = 1_700_000_000_000): MotionResult[] {
  return frames.map((f, i) => detector.push(f, startMs + Math.round((i * 1000) / fps)));
}
const times = (n: number) => Array.from({ length: n }, (_, i) => i);
const person = (x: number, y = 60): Block => ({ x, y, w: 40, h: 90, lum: 40 });

describe("MotionDetector", () => {
  it("sees nothing in a still scene: the first frame seeds, identical and noisy frames stay quiet", () => {
    const look = scene();
    const still = look({ noise: 0 });
    const d = new MotionDetector(W, H, settings());
    for (const r of run(d, times(30).map(() => still))) expect(r).toEqual({ moving: false, score: 0, box: null, zones: [], lightChange: false });
    expect(run(new MotionDetector(W, H, settings()), times(50).map(() => look())).some((r) => r.moving || r.lightChange)).toBe(false);
  });

  it("detects a walking person from the second frame on, with the right box", () => {
    const look = scene();
    const d = new MotionDetector(W, H, settings());
    const results = run(d, [look(), ...times(12).map((i) => look({ blocks: [person(20 + 18 * i)] }))]);
    expect(results.slice(0, 2).map((r) => r.moving)).toEqual([false, false]);
    for (const [i, r] of results.slice(2).entries()) {
      expect(r.moving, `frame ${i + 2}`).toBe(true);
      const x = 20 + 18 * (i + 1);
      expect(r.box!.x).toBeCloseTo(x / W, 1);
      expect(Math.abs(r.box!.x - x / W)).toBeLessThanOrEqual(2.5 / W);
      expect(Math.abs(r.box!.w - 40 / W)).toBeLessThanOrEqual(4.5 / W);
      expect(Math.abs(r.box!.y - 60 / H)).toBeLessThanOrEqual(2.5 / H);
      expect(Math.abs(r.box!.h - 90 / H)).toBeLessThanOrEqual(4.5 / H);
      expect(r.score).toBeCloseTo((40 * 90) / (W * H), 2);
      expect(r.lightChange).toBe(false);
    }
  });

  it("needs two frames in a row: a one-frame flash of a block is not motion", () => {
    const look = scene();
    const frames = [look(), look(), look({ blocks: [person(100)] }), look(), look(), look()];
    expect(run(new MotionDetector(W, H, settings()), frames).some((r) => r.moving)).toBe(false);
  });

  it("works at 2 and at 10 frames per second", () => {
    for (const fps of [2, 10]) {
      const look = scene();
      const step = 90 / fps; // 90 px/s: about walking pace across the frame
      const frames = [look(), ...times(fps * 3).map((i) => look({ blocks: [person(Math.round(10 + step * i))] }))];
      const results = run(new MotionDetector(W, H, settings()), frames, fps);
      expect(results.slice(2).every((r) => r.moving), `${fps} fps`).toBe(true);
    }
  });

  it("reports a lamp switching on and off as a light change, not motion, and stays quiet afterwards", () => {
    const look = scene();
    const frames = [...times(10).map(() => look()), ...times(20).map(() => look({ gain: 1.25, offset: 40 })), ...times(20).map(() => look())];
    const results = run(new MotionDetector(W, H, settings()), frames);
    expect(results.some((r) => r.moving)).toBe(false);
    expect(results.map((r, i) => (r.lightChange ? i : -1)).filter((i) => i >= 0)).toEqual([10, 30]);
  });

  it("follows a cloud's slow darkening and brightening without motion, and still sees a person walk through it", () => {
    for (const fps of [2, 5, 10]) {
      const look = scene();
      const n = fps * 20;
      // Down to 55 % (and 20 levels darker) over 8 s, back up over 8 s: multiplicative and additive.
      const light = (i: number) => {
        const t = i / fps;
        const k = t < 2 ? 0 : t < 10 ? (t - 2) / 8 : t < 12 ? 1 : t < 20 ? 1 - (t - 12) / 8 : 0;
        return { gain: 1 - 0.45 * k, offset: -20 * k };
      };
      const quiet = run(new MotionDetector(W, H, settings()), times(n).map((i) => look(light(i))), fps);
      expect(quiet.some((r) => r.moving), `${fps} fps`).toBe(false);
      // The same cloud with a person walking through from 5 s to 9 s.
      const walk = (i: number) => (i / fps >= 5 && i / fps < 9 ? [person(Math.round(-40 + 90 * (i / fps - 5)))] : []);
      const seen = run(new MotionDetector(W, H, settings()), times(n).map((i) => look({ ...light(i), blocks: walk(i) })), fps);
      const moving = seen.map((r, i) => (r.moving ? i / fps : -1)).filter((t) => t >= 0);
      expect(moving.length, `${fps} fps`).toBeGreaterThan(0);
      expect(Math.min(...moving)).toBeLessThanOrEqual(6); // in view from 5.5 s at 2 fps, two frames needed
      expect(Math.max(...moving)).toBeGreaterThan(8);
      expect(moving.every((t) => t >= 5 && t < 10), `${fps} fps: ${moving}`).toBe(true);
    }
  });

  it("adapts to heavy sensor noise instead of reporting it", () => {
    const look = scene(3);
    const frames = times(100).map(() => look({ noise: 25 }));
    const d = new MotionDetector(W, H, settings({ sensitivity: 10 }));
    const results = run(d, frames);
    expect(results.some((r) => r.moving || r.lightChange)).toBe(false);
    expect(d.diagnostics.noise).toBeGreaterThan(10);
  });

  it("ignores motion inside a mask, and sees it without the mask", () => {
    const look = scene();
    // A block swaying inside the top-right corner.
    const frames = times(30).map((i) => look({ blocks: [{ x: 230 + Math.round(15 * Math.sin(i)), y: 10, w: 50, h: 40, lum: 30 }] }));
    const masked = settings({ masks: [rect(0.65, 0, 1, 0.35)] });
    expect(run(new MotionDetector(W, H, masked), frames).some((r) => r.moving)).toBe(false);
    expect(run(new MotionDetector(W, H, settings()), frames).some((r) => r.moving)).toBe(true);
  });

  it("counts only motion inside zones and names the zones it touches", () => {
    const look = scene();
    const zones = [
      { name: "path", polygon: rect(0, 0.3, 0.5, 1) },
      { name: "gate", polygon: rect(0.5, 0.3, 1, 1) },
    ];
    const d = new MotionDetector(W, H, settings({ zones }));
    const inPath = run(d, [look(), ...times(4).map((i) => look({ blocks: [person(40 + 10 * i)] }))]);
    expect(inPath.at(-1)).toMatchObject({ moving: true, zones: ["path"] });
    const across = run(new MotionDetector(W, H, settings({ zones })), [look(), ...times(4).map((i) => look({ blocks: [person(140 + 5 * i)] }))]);
    expect(across.at(-1)).toMatchObject({ moving: true, zones: ["path", "gate"] });
    // Motion above the zones (y < 0.3 of the frame) does not count.
    const above = run(new MotionDetector(W, H, settings({ zones })), [look(), ...times(6).map((i) => look({ blocks: [{ x: 40 + 20 * i, y: 0, w: 60, h: 45, lum: 30 }] }))]);
    expect(above.some((r) => r.moving)).toBe(false);
  });

  it("applies new settings live: a mask added during motion silences it", () => {
    const look = scene();
    const d = new MotionDetector(W, H, settings());
    const before = run(d, [look(), ...times(4).map((i) => look({ blocks: [person(100 + 10 * i)] }))]);
    expect(before.at(-1)!.moving).toBe(true);
    d.updateSettings(settings({ masks: [rect(0.2, 0, 0.6, 1)] }));
    const after = run(d, times(4).map((i) => look({ blocks: [person(140 + 2 * i)] })), 5, 1_700_000_001_000);
    expect(after.some((r) => r.moving)).toBe(false);
  });

  it("scales the smallest motion with sensitivity", () => {
    const look = scene();
    const block = (size: number) => [look(), ...times(6).map((i) => look({ blocks: [{ x: 100 + 6 * i, y: 80, w: size, h: size, lum: 20 }] }))];
    const sees = (sensitivity: number, size: number) => run(new MotionDetector(W, H, settings({ sensitivity })), block(size)).some((r) => r.moving);
    // 24×24 px is 1 % of the frame, 12×12 px 0.25 %, 8×8 px 0.11 %.
    expect([1, 5, 10].map((s) => sees(s, 24))).toEqual([false, true, true]);
    expect([1, 5, 10].map((s) => sees(s, 12))).toEqual([false, false, true]);
    expect([1, 5, 10].map((s) => sees(s, 8))).toEqual([false, false, true]);
  });

  it("keeps a person who stops in view for a while, then absorbs them into the background", () => {
    const look = scene();
    const fps = 5;
    const frames = [look(), ...times(fps * 40).map(() => look({ blocks: [person(150)] }))];
    const results = run(new MotionDetector(W, H, settings()), frames, fps);
    const movingAt = (s: number) => results[1 + s * fps]!.moving;
    for (const s of [1, 5, 10, 15]) expect(movingAt(s), `${s} s`).toBe(true);
    const quietFrom = results.findIndex((r, i) => i > 2 && !r.moving) / fps;
    expect(quietFrom).toBeGreaterThanOrEqual(ABSORB_AFTER_S);
    expect(quietFrom).toBeLessThan(ABSORB_AFTER_S + 5);
    expect(results.slice(Math.ceil(quietFrom * fps)).some((r) => r.moving)).toBe(false);
  });

  it("leaves no ghost when someone who stood long enough to be absorbed walks away", () => {
    const look = scene();
    const fps = 5;
    const frames = [look(), ...times(fps * 30).map(() => look({ blocks: [person(150)] })), ...times(fps * 10).map(() => look())];
    const results = run(new MotionDetector(W, H, settings()), frames, fps);
    expect(results[fps * 10]!.moving).toBe(true);
    expect(results[fps * 29]!.moving).toBe(false);
    expect(results.slice(1 + fps * 30).some((r) => r.moving)).toBe(false);
  });

  it("restarts after a long gap in the frames instead of comparing with a stale background", () => {
    const look = scene();
    const d = new MotionDetector(W, H, settings());
    run(d, times(5).map(() => look()));
    const later = run(d, times(5).map(() => look({ blocks: [person(100)] })), 5, 1_800_000_000_000);
    expect(later.some((r) => r.moving)).toBe(false);
  });

  it("refuses frames of the wrong size", () => {
    const d = new MotionDetector(W, H, settings());
    expect(() => d.push(new Uint8Array(100), 0)).toThrow(/expected 320×180/);
    expect(() => new MotionDetector(4, 4, settings())).toThrow(/at least 8×8/);
  });
});
