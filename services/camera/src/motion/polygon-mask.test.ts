import { describe, expect, it } from "vitest";
import type { MotionSettings, Polygon } from "@picket/contracts";
import { buildWatchRegions, pointInPolygon, rasterizePolygon } from "./polygon-mask.js";

const settings = (over: Partial<MotionSettings> = {}): MotionSettings => ({ sensitivity: 5, masks: [], zones: [], ...over });

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("rasterizePolygon", () => {
  it("marks exactly the pixels whose centres pointInPolygon accepts, for convex, concave and self-crossing outlines", () => {
    const rand = random(7);
    const [w, h] = [37, 23];
    for (let n = 0; n < 50; n++) {
      const polygon = Array.from({ length: 3 + Math.floor(rand() * 8) }, () => [rand(), rand()] as [number, number]) as Polygon;
      const raster = new Uint8Array(w * h);
      rasterizePolygon(polygon, w, h, raster);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          expect(raster[y * w + x], `polygon ${n} at ${x},${y}`).toBe(pointInPolygon((x + 0.5) / w, (y + 0.5) / h, polygon) ? 1 : 0);
        }
      }
    }
  });

  it("covers the whole frame with the unit square and half of it with a diagonal triangle", () => {
    const [w, h] = [40, 40];
    const full = new Uint8Array(w * h);
    rasterizePolygon([[0, 0], [1, 0], [1, 1], [0, 1]], w, h, full);
    expect(full.every((v) => v === 1)).toBe(true);
    const half = new Uint8Array(w * h);
    rasterizePolygon([[0, 0], [1, 0], [0, 1]], w, h, half);
    const area = half.reduce((a, b) => a + b, 0) / (w * h);
    expect(area).toBeGreaterThan(0.45);
    expect(area).toBeLessThan(0.55);
  });

  it("draws into the bitmap without clearing it, so masks add up", () => {
    const out = new Uint8Array(10 * 10);
    rasterizePolygon([[0, 0], [0.5, 0], [0.5, 1], [0, 1]], 10, 10, out);
    rasterizePolygon([[0.5, 0], [1, 0], [1, 1], [0.5, 1]], 10, 10, out);
    expect(out.every((v) => v === 1)).toBe(true);
  });
});

describe("buildWatchRegions", () => {
  it("masks a cell when any of its pixels is masked, and watches everything else without zones", () => {
    // 8×4 pixels, 2×2 cells: the mask covers pixel column 0 only, so cell column 0 is masked.
    const r = buildWatchRegions(settings({ masks: [[[0, 0], [1 / 8, 0], [1 / 8, 1], [0, 1]]] }), 8, 4, 2, 4, 2);
    expect([...r.unmasked]).toEqual([0, 1, 1, 1, 0, 1, 1, 1]);
    expect([...r.watched]).toEqual([0, 1, 1, 1, 0, 1, 1, 1]);
    expect(r.unmaskedCount).toBe(6);
    expect(r.watchedCount).toBe(6);
  });

  it("with zones, watches only zone cells outside masks and records each cell's zones as bits", () => {
    const left: Polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]];
    const top: Polygon = [[0, 0], [1, 0], [1, 0.5], [0, 0.5]];
    const mask: Polygon = [[0.75, 0], [1, 0], [1, 1], [0.75, 1]];
    const r = buildWatchRegions(settings({ masks: [mask], zones: [{ name: "left", polygon: left }, { name: "top", polygon: top }] }), 8, 4, 2, 4, 2);
    expect([...r.zoneBits]).toEqual([3, 3, 2, 2, 1, 1, 0, 0]);
    expect([...r.watched]).toEqual([1, 1, 1, 0, 1, 1, 0, 0]);
    expect(r.watchedCount).toBe(5);
    expect(r.unmaskedCount).toBe(6);
    expect(r.zoneNames).toEqual(["left", "top"]);
  });
});
