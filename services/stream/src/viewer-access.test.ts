import type { IncomingMessage } from "node:http";
import { signLiveToken } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { checkAccess } from "./viewer-access.js";

const secret = "x".repeat(40);
const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers: { host: "127.0.0.1:8081", ...headers } }) as unknown as IncomingMessage;
const token = (exp = 10_000) => signLiveToken(secret, { device: "porch", profile: "*", exp, sub: "web" });

describe("checkAccess", () => {
  it("takes a viewer with the web's token for that camera, in the query or as a bearer", () => {
    expect(checkAccess(req(`/live/porch/high?token=${token()}`), secret, "porch", "high", 0)).toEqual({ ok: true, who: "web" });
    expect(checkAccess(req("/live/porch/high", { authorization: `Bearer ${token()}` }), secret, "porch", "high", 0).ok).toBe(true);
  });

  it("refuses no token, an expired one, another camera's, and another site's page even with a token", () => {
    expect(checkAccess(req("/live/porch/high"), secret, "porch", "high", 0)).toMatchObject({ ok: false, status: 401 });
    expect(checkAccess(req(`/live/porch/high?token=${token(5)}`), secret, "porch", "high", 5)).toMatchObject({ ok: false, status: 401, error: /expired/ });
    expect(checkAccess(req(`/live/garden/high?token=${token()}`), secret, "garden", "high", 0)).toMatchObject({ ok: false, status: 401 });
    expect(checkAccess(req(`/live/porch/high?token=${token()}`, { origin: "http://evil.example" }), secret, "porch", "high", 0)).toMatchObject({ ok: false, status: 403 });
  });

  it("without a secret takes anyone but another site's page", () => {
    expect(checkAccess(req("/live/porch/high"), undefined, "porch", "high").ok).toBe(true);
    expect(checkAccess(req("/live/porch/high", { origin: "http://evil.example" }), undefined, "porch", "high").ok).toBe(false);
  });
});
