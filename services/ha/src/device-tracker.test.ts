import type { Heartbeat } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { DeviceTracker } from "./device-tracker.js";

const beat = (device: string, service: Heartbeat["service"], over: Partial<Heartbeat> = {}): Heartbeat => ({ device, service, version: "1.0.0", at: 0, uptimeS: 1, rssBytes: 1, cpuPct: 0, vitals: {}, ...over });

describe("DeviceTracker", () => {
  it("tracks cameras by their camera or pir heartbeats; a hub's own web, bot and fleet services make no camera", () => {
    const t = new DeviceTracker(10_000);
    expect(t.heard(beat("hub", "web"), 0)).toBeUndefined();
    expect(t.heard(beat("hub", "fleet"), 0)).toBeUndefined();
    expect(t.heard(beat("pi", "pir"), 0)).toEqual({ device: "pi", isNew: true, cameOnline: true, versionChanged: false, pirArmedChanged: false });
    expect(t.heard(beat("pi", "camera"), 500)).toEqual({ device: "pi", isNew: false, cameOnline: false, versionChanged: false, pirArmedChanged: false });
    expect(t.list()).toEqual(["pi"]);
  });

  it("goes offline once every sensing heartbeat has been silent for the limit, once, and online at the next", () => {
    const t = new DeviceTracker(10_000);
    t.heard(beat("pi", "pir"), 1_000);
    t.heard(beat("pi", "camera"), 3_000);
    expect(t.nextExpiryIn(4_000)).toBe(9_000);
    expect(t.expire(12_999)).toEqual([]);
    expect(t.isOnline("pi")).toBe(true);
    expect(t.expire(13_000)).toEqual(["pi"]);
    expect(t.expire(14_000)).toEqual([]);
    expect(t.isOnline("pi")).toBe(false);
    expect(t.nextExpiryIn(14_000)).toBeUndefined();
    expect(t.heard(beat("pi", "pir"), 15_000)).toMatchObject({ isNew: false, cameOnline: true });
    expect(t.nextExpiryIn(15_000)).toBe(10_000);
  });

  it("a silent web service does not keep a camera online", () => {
    const t = new DeviceTracker(10_000);
    t.heard(beat("pi", "camera"), 0);
    t.heard(beat("pi", "web"), 9_000);
    expect(t.expire(10_000)).toEqual(["pi"]);
  });

  it("notices a new version (an update) and the pir's armed report", () => {
    const t = new DeviceTracker(10_000);
    t.heard(beat("pi", "pir", { vitals: { armed: 1 } }), 0);
    expect(t.pirArmed("pi")).toBe(true);
    expect(t.heard(beat("pi", "camera", { version: "1.1.0" }), 1)).toMatchObject({ versionChanged: true, pirArmedChanged: false });
    expect(t.version("pi")).toBe("1.1.0");
    expect(t.heard(beat("pi", "pir", { version: "1.1.0", vitals: { armed: 0 } }), 2)).toMatchObject({ versionChanged: false, pirArmedChanged: true });
    expect(t.pirArmed("pi")).toBe(false);
  });

  it("tracks no more devices than its bound", () => {
    const t = new DeviceTracker(10_000, 2);
    t.heard(beat("a", "pir"), 0);
    t.heard(beat("b", "pir"), 0);
    expect(t.heard(beat("c", "pir"), 0)).toBeUndefined();
    expect(t.heard(beat("a", "camera"), 1)).toMatchObject({ isNew: false });
    expect(t.size).toBe(2);
  });
});
