import { describe, expect, it } from "vitest";
import type { CachedFrame } from "@picket/contracts";
import { GopCache } from "./gop-cache.js";

const frame = (seq: number, key = false, bytes = 10): CachedFrame => ({ key, seq, wire: new Uint8Array(bytes) });
const seqs = (cache: GopCache) => cache.snapshot().map((f) => f.seq);

describe("GopCache", () => {
  it("holds the newest keyframe and the frames after it", () => {
    const c = new GopCache();
    for (const f of [frame(1, true), frame(2), frame(3)]) c.push(f);
    expect(seqs(c)).toEqual([1, 2, 3]);
    expect(c.size).toEqual({ frames: 3, bytes: 30 });
  });

  it("starts over at each keyframe", () => {
    const c = new GopCache();
    for (const f of [frame(1, true), frame(2), frame(3, true), frame(4)]) c.push(f);
    expect(seqs(c)).toEqual([3, 4]);
  });

  it("drops frames that arrive before any keyframe", () => {
    const c = new GopCache();
    c.push(frame(1));
    c.push(frame(2));
    expect(seqs(c)).toEqual([]);
    c.push(frame(3, true));
    c.push(frame(4));
    expect(seqs(c)).toEqual([3, 4]);
  });

  it("empties when the GOP outgrows the bound and stays empty until the next keyframe", () => {
    const c = new GopCache(35);
    for (const f of [frame(1, true), frame(2), frame(3)]) c.push(f);
    expect(seqs(c)).toEqual([1, 2, 3]);
    c.push(frame(4));
    expect(seqs(c)).toEqual([]);
    // A small delta would fit again, but cannot be decoded without the frames just dropped.
    c.push(frame(5, false, 1));
    expect(seqs(c)).toEqual([]);
    c.push(frame(6, true));
    expect(seqs(c)).toEqual([6]);
    expect(c.size).toEqual({ frames: 1, bytes: 10 });
  });

  it("fills exactly to the bound", () => {
    const c = new GopCache(30);
    for (const f of [frame(1, true), frame(2), frame(3)]) c.push(f);
    expect(c.size.bytes).toBe(30);
  });

  it("holds nothing for a keyframe larger than the bound, nor the deltas after it", () => {
    const c = new GopCache(100);
    c.push(frame(1, true, 101));
    c.push(frame(2));
    expect(seqs(c)).toEqual([]);
  });

  it("clear() waits for the next keyframe", () => {
    const c = new GopCache();
    c.push(frame(1, true));
    c.clear();
    c.push(frame(2));
    expect(seqs(c)).toEqual([]);
    expect(c.size).toEqual({ frames: 0, bytes: 0 });
  });
});
