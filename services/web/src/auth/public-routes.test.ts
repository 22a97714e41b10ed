import { describe, expect, it } from "vitest";
import { isPublic } from "./auth-plugin.js";

describe("isPublic", () => {
  it("lets the login page's files, health and the session endpoint through", () => {
    expect(isPublic("GET", "/", "/")).toBe(true);
    expect(isPublic("HEAD", "/", "/*")).toBe(true);
    expect(isPublic("GET", "/index.html", "/*")).toBe(true);
    expect(isPublic("GET", "/favicon.svg", "/*")).toBe(true);
    expect(isPublic("GET", "/assets/app-1a2b.js", "/*")).toBe(true);
    expect(isPublic("GET", "/assets/fonts/x.woff2", undefined)).toBe(true);
    expect(isPublic("GET", "/healthz", "/healthz")).toBe(true);
    for (const m of ["GET", "POST", "DELETE"]) expect(isPublic(m, "/api/session", "/api/session")).toBe(true);
  });
  it("keeps everything else behind login", () => {
    expect(isPublic("POST", "/", "/")).toBe(false);
    expect(isPublic("GET", "/metrics", "/metrics")).toBe(false);
    expect(isPublic("GET", "/nope", undefined)).toBe(false);
    expect(isPublic("GET", "/nope", "/*")).toBe(false);
    expect(isPublic("GET", "/hls/x/index.m3u8", "/hls/*")).toBe(false);
    expect(isPublic("GET", "/api/docs", "/api/docs")).toBe(false);
    expect(isPublic("POST", "/healthz", "/healthz")).toBe(false);
    expect(isPublic("GET", "/api/session/password", "/api/session/password")).toBe(false);
    // Tricks that a router might resolve to another route.
    expect(isPublic("GET", "/assets/../metrics", "/metrics")).toBe(false);
    expect(isPublic("GET", "/assets/../metrics", "/assets/*")).toBe(false);
    expect(isPublic("GET", "/assets/%2e%2e/metrics", "/assets/*")).toBe(false);
    expect(isPublic("GET", "/assets/.env", "/assets/*")).toBe(false);
    expect(isPublic("GET", "/assets/x.js", "/api/:thing")).toBe(false);
    expect(isPublic("GET", "/assets", "/*")).toBe(false);
  });
});
