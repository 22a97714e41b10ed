import { describe, expect, it } from "vitest";
import { presetsInForce, tryParsePresets } from "./quality-presets.js";

const configured = [
  { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
  { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 25 },
];
const stored = { presets: [{ name: "hd", width: 960, height: 540, bitrateKbps: 1200, fps: 15 }], phone: "hd", desktop: "hd" };

describe("presets in force", () => {
  it("are the stored presets when there are any, in their order", () => {
    expect(presetsInForce(stored, configured)).toEqual({ presets: stored, profiles: stored.presets, source: "settings" });
  });

  it("are the configured profiles otherwise, phones on the last", () => {
    expect(presetsInForce(undefined, configured)).toEqual({ presets: { presets: configured, phone: "low", desktop: "high" }, profiles: configured, source: "config" });
  });
});

describe("tryParsePresets", () => {
  it("reads valid presets", () => {
    expect(tryParsePresets(JSON.stringify(stored))).toEqual(stored);
  });

  it.each([
    "not json",
    "{}",
    JSON.stringify({ ...stored, desktop: "nope" }),
    JSON.stringify({ ...stored, presets: [{ ...stored.presets[0], width: 961 }] }),
    JSON.stringify({ ...stored, presets: [{ ...stored.presets[0], fps: 0 }] }),
    JSON.stringify({ ...stored, extra: 1 }),
  ])("gives undefined for %s", (raw) => {
    expect(tryParsePresets(raw)).toBeUndefined();
  });
});
