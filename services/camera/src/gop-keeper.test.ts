import { describe, expect, it } from "vitest";
import { GopKeeper } from "./gop-keeper.js";

const unit = (seq: number, key: boolean, bytes = 10) => ({ meta: { seq, ptsUs: seq * 40_000, capturedUs: seq * 40_000, key, codec: "avc1.64001f", width: 1280, height: 720 }, data: new Uint8Array(bytes) });

describe("GopKeeper", () => {
  it("keeps the newest keyframe and every unit since, and starts again at each keyframe", () => {
    const g = new GopKeeper();
    g.push(unit(0, false));
    expect(g.current()).toEqual([]);
    for (let i = 1; i <= 5; i++) g.push(unit(i, i === 1));
    expect(g.current().map((u) => u.meta.seq)).toEqual([1, 2, 3, 4, 5]);
    g.push(unit(6, true));
    g.push(unit(7, false));
    expect(g.current().map((u) => u.meta.seq)).toEqual([6, 7]);
    g.clear();
    expect(g.current()).toEqual([]);
    g.push(unit(8, false));
    expect(g.current()).toEqual([]);
  });

  it("gives nothing for a GOP too large to keep, until the next keyframe", () => {
    const g = new GopKeeper();
    g.push(unit(0, true, 5 * 1024 * 1024));
    g.push(unit(1, false, 4 * 1024 * 1024));
    expect(g.current()).toEqual([]);
    g.push(unit(2, false));
    expect(g.current()).toEqual([]);
    g.push(unit(3, true));
    expect(g.current().map((u) => u.meta.seq)).toEqual([3]);
  });
});
