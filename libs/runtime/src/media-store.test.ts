import { describe, expect, it } from "vitest";
import { planPrune, shrunkQuota, storedBytes, type MediaObject } from "./media-store.js";

const obj = (name: string, bytes: number, atS: number): MediaObject => ({ name, bytes, mtime: new Date(1_750_000_000_000 + atS * 1000) });

describe("storedBytes", () => {
  it("counts the data, each 128 kB chunk's overhead and the metadata message", () => {
    expect(storedBytes("a", 0)).toBe(0 + 128 + 1024 + 2);
    expect(storedBytes("a", 128 * 1024)).toBe(128 * 1024 + 128 + 1024 + 2);
    expect(storedBytes("a", 128 * 1024 + 1)).toBe(128 * 1024 + 1 + 2 * 128 + 1024 + 2);
  });
});

describe("planPrune", () => {
  const objects = [obj("c", 300_000, 30), obj("a", 300_000, 10), obj("b", 300_000, 20)];
  const used = objects.reduce((n, o) => n + storedBytes(o.name, o.bytes), 0);

  it("deletes nothing when the new object fits", () => {
    expect(planPrune(objects, used, 100_000, used + 100_000)).toEqual({ remove: [], fits: true });
  });

  it("deletes the oldest first (by mtime, whatever the listing order), only as many as needed", () => {
    expect(planPrune(objects, used, 100_000, used)).toEqual({ remove: ["a"], fits: true });
    expect(planPrune(objects, used, 400_000, used)).toEqual({ remove: ["a", "b"], fits: true });
  });

  it("says when even deleting everything is not enough", () => {
    expect(planPrune(objects, used, 2_000_000, used)).toEqual({ remove: ["a", "b", "c"], fits: false });
  });

  it("prunes to fit a smaller quota with nothing incoming", () => {
    expect(planPrune(objects, used, 0, storedBytes("c", 300_000))).toEqual({ remove: ["a", "b"], fits: true });
  });
});

describe("shrunkQuota", () => {
  it("takes half of the first quota JetStream could reserve, so at least as much stays for the events", () => {
    expect(shrunkQuota(512 * 1048576)).toBe(256 * 1048576);
    expect(shrunkQuota(3_000_001, 1_000_000)).toBe(1_500_000);
  });

  it("never goes below the smallest quota", () => {
    expect(shrunkQuota(1_500_000, 1_000_000)).toBe(1_000_000);
    expect(shrunkQuota(1048576)).toBe(1048576);
  });
});
