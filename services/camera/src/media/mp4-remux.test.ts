import { describe, expect, it } from "vitest";
import { frameTimes } from "./mp4-remux.js";

const at = (...ms: number[]) => ms.map((m) => ({ ptsUs: 5_000_000 + m * 1000 }));

describe("frameTimes", () => {
  it("keeps the frames' own timing from the first frame, with the median step as the frame duration", () => {
    expect(frameTimes(at(0, 40, 80, 120), 25)).toEqual({ dtsMs: [0, 40, 80, 120], ctsMs: [0, 0, 0, 0], frameMs: 40 });
  });

  it("keeps a gap of dropped frames instead of assuming a constant rate", () => {
    expect(frameTimes(at(0, 40, 160, 200), 25)).toMatchObject({ dtsMs: [0, 40, 160, 200], frameMs: 40 });
  });

  it("uses 1000/fps for a single frame", () => {
    expect(frameTimes(at(0), 30)).toEqual({ dtsMs: [0], ctsMs: [0], frameMs: 33 });
  });

  it("derives decode times for B-frames (PTS out of order) so that no frame shows before it is decoded", () => {
    // Decode order I P B B P B B with presentation 0, 120, 40, 80, 240, 160, 200.
    const t = frameTimes(at(0, 120, 40, 80, 240, 160, 200), 25);
    expect(t.dtsMs).toEqual([0, 40, 80, 120, 160, 200, 240]);
    const pts = t.dtsMs.map((d, i) => d + (t.ctsMs[i] as number));
    expect(pts.map((p) => p - (pts[0] as number))).toEqual([0, 120, 40, 80, 240, 160, 200]);
    expect(t.ctsMs.every((c) => c >= 0)).toBe(true);
  });

  it("moves two frames in the same ms apart so decode times strictly increase", () => {
    expect(frameTimes(at(0, 0.2, 40), 25).dtsMs).toEqual([0, 1, 40]);
  });
});
