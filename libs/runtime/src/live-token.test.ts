import { describe, expect, it } from "vitest";
import { checkLiveToken, newLiveSecret, signLiveToken } from "./live-token.js";

const secret = newLiveSecret();

describe("live tokens", () => {
  it("let the viewer watch the camera they were signed for, until they expire", () => {
    const token = signLiveToken(secret, { device: "porch", profile: "*", exp: 10_000, sub: "ann" });
    expect(checkLiveToken(secret, token, "porch", "high", 9_999)).toEqual({ ok: true, claims: { device: "porch", profile: "*", exp: 10_000, sub: "ann" } });
    expect(checkLiveToken(secret, token, "porch", "low", 9_999).ok).toBe(true);
    expect(checkLiveToken(secret, token, "porch", "high", 10_000)).toEqual({ ok: false, reason: "expired" });
    expect(checkLiveToken(secret, token, "garden", "high", 0)).toEqual({ ok: false, reason: "wrong-camera" });
  });

  it("refuse a token signed with another secret, a changed claim, and garbage", () => {
    const token = signLiveToken(secret, { device: "porch", profile: "high", exp: 10_000 });
    expect(checkLiveToken(newLiveSecret(), token, "porch", "high", 0)).toEqual({ ok: false, reason: "bad-signature" });
    const [, sig] = token.split(".");
    const forged = `${Buffer.from(JSON.stringify({ device: "*", profile: "*", exp: 9e15 })).toString("base64url")}.${sig}`;
    expect(checkLiveToken(secret, forged, "porch", "high", 0)).toEqual({ ok: false, reason: "bad-signature" });
    for (const bad of [undefined, "", "abc", "a.b.c", ".", `${token}x`, 42, "x".repeat(5_000)]) expect(checkLiveToken(secret, bad, "porch", "high", 0).ok).toBe(false);
  });
});
