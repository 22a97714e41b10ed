import { describe, expect, it } from "vitest";
import { RawFrameSplitter } from "./raw-frames.js";

const frames = (n: number, size: number) => Uint8Array.from({ length: n * size }, (_, i) => Math.floor(i / size));

describe("RawFrameSplitter", () => {
  it("yields whole frames whatever the chunking, and keeps a partial one for the next chunk", () => {
    const data = frames(5, 6);
    for (const chunk of [1, 4, 6, 7, 30]) {
      const splitter = new RawFrameSplitter(6);
      const seen: number[][] = [];
      for (let i = 0; i < data.length; i += chunk) splitter.push(data.subarray(i, i + chunk), (f) => seen.push([...f]));
      expect(seen, `chunk ${chunk}`).toEqual([0, 1, 2, 3, 4].map((v) => Array(6).fill(v)));
    }
  });

  it("holds back a trailing partial frame", () => {
    const splitter = new RawFrameSplitter(4);
    let count = 0;
    splitter.push(new Uint8Array(7), () => count++);
    expect(count).toBe(1);
    splitter.push(new Uint8Array(1), () => count++);
    expect(count).toBe(2);
  });

  it("refuses a nonsense frame size", () => {
    expect(() => new RawFrameSplitter(0)).toThrow(/positive integer/);
  });
});
