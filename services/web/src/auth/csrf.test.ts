import { describe, expect, it } from "vitest";
import { csrfMatches, requestOriginAllowed } from "./csrf.js";

describe("csrfMatches", () => {
  it("accepts only the exact token", () => {
    expect(csrfMatches("abc", "abc")).toBe(true);
    expect(csrfMatches("abd", "abc")).toBe(false);
    expect(csrfMatches("ab", "abc")).toBe(false);
    expect(csrfMatches(undefined, "abc")).toBe(false);
    expect(csrfMatches(["abc"], "abc")).toBe(false);
  });
});

describe("requestOriginAllowed", () => {
  const own = { protocol: "http", host: "picket.local:8080" };
  it("allows no Origin, this page's own origin and the public URL's", () => {
    expect(requestOriginAllowed(undefined, own, undefined)).toBe(true);
    expect(requestOriginAllowed("http://picket.local:8080", own, undefined)).toBe(true);
    expect(requestOriginAllowed("https://cam.example.org", own, "https://cam.example.org")).toBe(true);
    expect(requestOriginAllowed("http://localhost", { protocol: "http", host: "localhost:80" }, undefined)).toBe(true);
  });
  it("refuses other sites, other schemes and the null origin", () => {
    expect(requestOriginAllowed("http://evil.example", own, undefined)).toBe(false);
    expect(requestOriginAllowed("https://picket.local:8080", own, undefined)).toBe(false);
    expect(requestOriginAllowed("http://picket.local:8081", own, undefined)).toBe(false);
    expect(requestOriginAllowed("null", own, undefined)).toBe(false);
    expect(requestOriginAllowed("http://evil.example", own, "https://cam.example.org")).toBe(false);
    expect(requestOriginAllowed(["http://picket.local:8080"], own, undefined)).toBe(false);
  });
});
