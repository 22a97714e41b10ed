import { describe, expect, it } from "vitest";
import type { QualityPresets } from "@picket/contracts";
import { AutoProfile, autoLadder, initialProfile } from "./auto-profile.js";

const profiles = ["high", "mid", "low"];

describe("auto profile", () => {
  it("starts phones on the lowest profile and everything else on the best", () => {
    expect(initialProfile(profiles, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")).toBe("low");
    expect(initialProfile(profiles, "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36")).toBe("low");
    expect(initialProfile(profiles, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36")).toBe("high");
    expect(initialProfile(profiles, undefined)).toBe("high");
  });

  it("steps down one profile after two skips within 30 s, not after skips far apart, and never below the lowest", () => {
    const a = new AutoProfile({ profiles }, "high", 0);
    expect(a.skipped(1_000)).toBeUndefined();
    expect(a.skipped(40_000)).toBeUndefined();
    expect(a.skipped(45_000)).toBe("mid");
    expect(a.skipped(46_000)).toBeUndefined();
    expect(a.skipped(47_000)).toBe("low");
    expect(a.skipped(48_000)).toBeUndefined();
    expect(a.skipped(49_000)).toBeUndefined();
    expect(a.profile).toBe("low");
  });

  it("steps up one profile after a minute without a skip, and not from the best", () => {
    const a = new AutoProfile({ profiles }, "low", 0);
    expect(a.tick(59_999)).toBeUndefined();
    expect(a.tick(60_000)).toBe("mid");
    expect(a.tick(100_000)).toBeUndefined();
    a.skipped(110_000);
    expect(a.tick(160_000)).toBeUndefined();
    expect(a.tick(170_000)).toBe("high");
    expect(a.tick(1e9)).toBeUndefined();
  });

  it("starts on the best profile when told to start on one it does not have", () => {
    expect(new AutoProfile({ profiles }, "gone", 0).profile).toBe("high");
    expect(new AutoProfile({ profiles }, "mid", 0).profile).toBe("mid");
  });
});

describe("auto ladder", () => {
  const phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
  const desktop = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36";
  const size = { width: 640, height: 360, bitrateKbps: 800, fps: 10 };
  const presets: QualityPresets = { presets: [{ name: "hd", ...size }, { name: "sd", ...size }, { name: "tiny", ...size }], phone: "sd", desktop: "hd" };

  it("without presets, steps the configured profiles: phones start on the last, others on the first", () => {
    expect(autoLadder(undefined, ["high", "low"], phone)).toEqual({ profiles: ["high", "low"], start: "low" });
    expect(autoLadder(undefined, ["high", "low"], desktop)).toEqual({ profiles: ["high", "low"], start: "high" });
    expect(autoLadder(undefined, ["high"], undefined)).toEqual({ profiles: ["high"], start: "high" });
  });

  it("with presets, steps their names in order: phones start on phone, others on desktop", () => {
    expect(autoLadder(presets, ["high", "low"], phone)).toEqual({ profiles: ["hd", "sd", "tiny"], start: "sd" });
    expect(autoLadder(presets, ["high", "low"], desktop)).toEqual({ profiles: ["hd", "sd", "tiny"], start: "hd" });
    expect(autoLadder(presets, ["high", "low"], undefined).start).toBe("hd");
    expect(autoLadder({ ...presets, desktop: "tiny" }, ["high"], desktop).start).toBe("tiny");
  });

  it("does not share the configured list with the ladder it returns", () => {
    const configured = ["high", "low"];
    autoLadder(undefined, configured, desktop).profiles.push("x");
    expect(configured).toEqual(["high", "low"]);
  });
});
