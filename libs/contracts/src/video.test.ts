import { describe, expect, it } from "vitest";
import { DecodeError } from "./decode.js";
import { PartAssembler, VideoHeader, readVideoHeaders, splitPayload, videoHeaders, type VideoMeta } from "./video.js";

const meta: VideoMeta = { seq: 42, ptsUs: 1_680_000, capturedUs: 1_700_000_000_123_456, key: true, codec: "avc1.42c01f", width: 1280, height: 720 };

/** Headers as NATS presents them: a missing header reads as "". */
const reader = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? "" });

describe("videoHeaders / readVideoHeaders", () => {
  it("round-trips the metadata", () => {
    expect(readVideoHeaders(reader(videoHeaders(meta)), "s")).toEqual(meta);
    expect(readVideoHeaders(reader(videoHeaders({ ...meta, key: false, seq: 0, ptsUs: 0 })), "s")).toEqual({ ...meta, key: false, seq: 0, ptsUs: 0 });
  });

  it("round-trips the part marker", () => {
    expect(readVideoHeaders(reader(videoHeaders(meta, { index: 2, count: 3 })), "s")).toEqual({ ...meta, part: { index: 2, count: 3 } });
  });

  it("rejects a message without headers", () => {
    expect(() => readVideoHeaders(undefined, "s")).toThrow(DecodeError);
  });

  it.each([
    [VideoHeader.key, "yes"],
    [VideoHeader.key, ""],
    [VideoHeader.codec, "hvc1.1.6.L93"],
    [VideoHeader.codec, "avc1.42c01"],
    [VideoHeader.seq, "-1"],
    [VideoHeader.seq, "1e3"],
    [VideoHeader.seq, ""],
    [VideoHeader.ptsUs, "12.5"],
    [VideoHeader.width, "0"],
    [VideoHeader.height, "abc"],
    [VideoHeader.capturedUs, "1".repeat(17)],
    [VideoHeader.part, "1/1"],
    [VideoHeader.part, "0/3"],
    [VideoHeader.part, "4/3"],
    [VideoHeader.part, "2"],
    [VideoHeader.part, "1/99999"],
  ])("rejects %s = %j, naming the header", (name, value) => {
    const h = { ...videoHeaders(meta), [name]: value };
    expect(() => readVideoHeaders(reader(h), "s")).toThrow(DecodeError);
    expect(() => readVideoHeaders(reader(h), "s")).toThrow(name);
  });
});

describe("splitPayload", () => {
  const data = Uint8Array.from({ length: 10 }, (_, i) => i);

  it("returns one piece when the payload fits", () => {
    expect(splitPayload(data, 10)).toEqual([data]);
    expect(splitPayload(new Uint8Array(0), 4)).toHaveLength(1);
  });

  it("splits into pieces of at most max bytes that join back to the payload", () => {
    const parts = splitPayload(data, 4);
    expect(parts.map((p) => p.length)).toEqual([4, 4, 2]);
    expect(Uint8Array.from(parts.flatMap((p) => [...p]))).toEqual(data);
    expect(splitPayload(data, 5).map((p) => p.length)).toEqual([5, 5]);
  });

  it("refuses a non-positive maximum", () => {
    expect(() => splitPayload(data, 0)).toThrow(RangeError);
  });
});

describe("PartAssembler", () => {
  const unit = (seq: number, size: number) => Uint8Array.from({ length: size }, (_, i) => (seq * 31 + i) & 0xff);
  const partsOf = (seq: number, data: Uint8Array, max: number) => {
    const pieces = splitPayload(data, max);
    return pieces.map((p, i) => ({ meta: { seq, part: { index: i + 1, count: pieces.length } }, data: p }));
  };

  it("passes whole units straight through", () => {
    const a = new PartAssembler();
    const data = unit(1, 5);
    expect(a.push({ seq: 1 }, data)).toBe(data);
    expect(a.dropped).toBe(0);
  });

  it("joins the parts of a unit in order and returns it with its last part", () => {
    const a = new PartAssembler();
    const data = unit(7, 10);
    const parts = partsOf(7, data, 4);
    expect(parts).toHaveLength(3);
    expect(a.push(parts[0]!.meta, parts[0]!.data)).toBeUndefined();
    expect(a.push(parts[1]!.meta, parts[1]!.data)).toBeUndefined();
    expect(a.push(parts[2]!.meta, parts[2]!.data)).toEqual(data);
    expect(a.dropped).toBe(0);
  });

  it("drops a unit with a missing part, counts it once, and assembles the next", () => {
    const a = new PartAssembler();
    const broken = partsOf(1, unit(1, 16), 4);
    expect(a.push(broken[0]!.meta, broken[0]!.data)).toBeUndefined();
    expect(a.push(broken[2]!.meta, broken[2]!.data)).toBeUndefined();
    expect(a.push(broken[3]!.meta, broken[3]!.data)).toBeUndefined();
    expect(a.dropped).toBe(1);
    const next = unit(2, 6);
    const parts = partsOf(2, next, 4);
    expect(a.push(parts[0]!.meta, parts[0]!.data)).toBeUndefined();
    expect(a.push(parts[1]!.meta, parts[1]!.data)).toEqual(next);
    expect(a.dropped).toBe(1);
  });

  it("drops a unit whose parts arrive out of order", () => {
    const a = new PartAssembler();
    const parts = partsOf(3, unit(3, 9), 3);
    expect(a.push(parts[0]!.meta, parts[0]!.data)).toBeUndefined();
    expect(a.push(parts[2]!.meta, parts[2]!.data)).toBeUndefined();
    expect(a.push(parts[1]!.meta, parts[1]!.data)).toBeUndefined();
    expect(a.dropped).toBe(1);
  });

  it("drops an unfinished unit when the next unit starts, and still delivers the next", () => {
    const a = new PartAssembler();
    const first = partsOf(1, unit(1, 8), 4);
    a.push(first[0]!.meta, first[0]!.data);
    const whole = unit(2, 3);
    expect(a.push({ seq: 2 }, whole)).toBe(whole);
    expect(a.dropped).toBe(1);
    const abandoned = partsOf(3, unit(3, 8), 4);
    a.push(abandoned[0]!.meta, abandoned[0]!.data);
    const second = partsOf(4, unit(4, 8), 4);
    a.push(second[0]!.meta, second[0]!.data);
    expect(a.push(second[1]!.meta, second[1]!.data)).toEqual(unit(4, 8));
    expect(a.dropped).toBe(2);
  });

  it("counts a unit joined mid-way as one drop and never returns its tail", () => {
    const a = new PartAssembler();
    const parts = partsOf(9, unit(9, 16), 4);
    expect(a.push(parts[1]!.meta, parts[1]!.data)).toBeUndefined();
    expect(a.push(parts[2]!.meta, parts[2]!.data)).toBeUndefined();
    expect(a.push(parts[3]!.meta, parts[3]!.data)).toBeUndefined();
    expect(a.dropped).toBe(1);
  });

  it("drops a part whose count disagrees with the unit's first part", () => {
    const a = new PartAssembler();
    a.push({ seq: 4, part: { index: 1, count: 3 } }, unit(4, 2));
    expect(a.push({ seq: 4, part: { index: 2, count: 2 } }, unit(4, 2))).toBeUndefined();
    expect(a.dropped).toBe(1);
  });
});

describe("PartAssembler bound", () => {
  it("drops a unit whose parts exceed the byte bound, holding no more than the bound, and counts it once", () => {
    const a = new PartAssembler(1000);
    const part = new Uint8Array(400);
    expect(a.push({ seq: 7, part: { index: 1, count: 9999 } }, part)).toBeUndefined();
    expect(a.push({ seq: 7, part: { index: 2, count: 9999 } }, part)).toBeUndefined();
    expect(a.push({ seq: 7, part: { index: 3, count: 9999 } }, part)).toBeUndefined();
    for (let i = 4; i < 50; i++) expect(a.push({ seq: 7, part: { index: i, count: 9999 } }, part)).toBeUndefined();
    expect(a.dropped).toBe(1);
    // The next unit is joined as usual.
    expect(a.push({ seq: 8, part: { index: 1, count: 2 } }, new Uint8Array([1]))).toBeUndefined();
    expect(a.push({ seq: 8, part: { index: 2, count: 2 } }, new Uint8Array([2]))).toEqual(new Uint8Array([1, 2]));
  });
});
