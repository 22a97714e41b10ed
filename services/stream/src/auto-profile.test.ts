import { describe, expect, it } from "vitest";
import { AutoProfile, initialProfile } from "./auto-profile.js";

const profiles = ["high", "mid", "low"];

describe("auto profile", () => {
  it("starts phones on the lowest profile and everything else on the best", () => {
    expect(initialProfile(profiles, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")).toBe("low");
    expect(initialProfile(profiles, "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36")).toBe("low");
    expect(initialProfile(profiles, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36")).toBe("high");
    expect(initialProfile(profiles, undefined)).toBe("high");
  });

  it("steps down one profile after two skips within 30 s, not after skips far apart, and never below the lowest", () => {
    const a = new AutoProfile({ profiles }, undefined, 0);
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
    const a = new AutoProfile({ profiles }, "Android Mobile", 0);
    expect(a.tick(59_999)).toBeUndefined();
    expect(a.tick(60_000)).toBe("mid");
    expect(a.tick(100_000)).toBeUndefined();
    a.skipped(110_000);
    expect(a.tick(160_000)).toBeUndefined();
    expect(a.tick(170_000)).toBe("high");
    expect(a.tick(1e9)).toBeUndefined();
  });
});
