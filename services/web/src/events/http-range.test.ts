import { describe, expect, it } from "vitest";
import { parseRange } from "./http-range.js";

describe("parseRange", () => {
  it("serves everything without a header, for another unit, several ranges or nonsense", () => {
    for (const h of [undefined, "items=0-5", "bytes=0-1,4-5", "bytes=abc", "bytes=-", "bytes=5-2"]) expect(parseRange(h, 100)).toEqual({ kind: "all" });
  });

  it("reads a-b, a- and -n, cutting an end past the body", () => {
    expect(parseRange("bytes=0-0", 100)).toEqual({ kind: "part", start: 0, end: 0 });
    expect(parseRange("bytes=10-19", 100)).toEqual({ kind: "part", start: 10, end: 19 });
    expect(parseRange("bytes=90-", 100)).toEqual({ kind: "part", start: 90, end: 99 });
    expect(parseRange("bytes=90-500", 100)).toEqual({ kind: "part", start: 90, end: 99 });
    expect(parseRange("bytes=-10", 100)).toEqual({ kind: "part", start: 90, end: 99 });
    expect(parseRange("bytes=-500", 100)).toEqual({ kind: "part", start: 0, end: 99 });
  });

  it("refuses a start past the end and an empty suffix", () => {
    expect(parseRange("bytes=100-", 100)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=200-300", 100)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 100)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });
});
