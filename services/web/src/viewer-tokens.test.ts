import { checkLiveToken } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { originAllowed, viewerTokens, withViewerToken } from "./viewer-tokens.js";

describe("viewer tokens", () => {
  it("signs a minute's access to one camera for the stream service, and nothing without a secret", () => {
    const secret = "s".repeat(40);
    const token = viewerTokens(secret, () => 1_000)("porch", "high") as string;
    expect(checkLiveToken(secret, token, "porch", "high", 60_999)).toMatchObject({ ok: true, claims: { sub: "web" } });
    expect(checkLiveToken(secret, token, "porch", "high", 61_000)).toMatchObject({ ok: false, reason: "expired" });
    expect(checkLiveToken(secret, token, "garden", "high", 2_000)).toMatchObject({ ok: false, reason: "wrong-camera" });
    expect(viewerTokens(undefined)("porch", "high")).toBeUndefined();
  });

  it("replaces any token a client put in the query, keeping the rest", () => {
    expect(withViewerToken("", "T")).toBe("?token=T");
    expect(withViewerToken("?_HLS_msn=5&token=forged", "T")).toBe("?_HLS_msn=5&token=T");
    expect(withViewerToken("?_HLS_msn=5&token=forged", undefined)).toBe("?_HLS_msn=5");
  });

  it("lets this site's pages and the household's public address open a camera, and no other site", () => {
    expect(originAllowed(undefined, "cam.local:8080")).toBe(true);
    expect(originAllowed("http://cam.local:8080", "cam.local:8080")).toBe(true);
    expect(originAllowed("https://cam.example.org", "127.0.0.1:8080", "https://cam.example.org")).toBe(true);
    expect(originAllowed("http://evil.example", "cam.local:8080", "https://cam.example.org")).toBe(false);
    expect(originAllowed("null", "cam.local:8080")).toBe(false);
  });
});
