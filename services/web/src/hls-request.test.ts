import { signLiveToken } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { linkTokenOpens, parseHlsRequest, type HlsRequest } from "./hls-request.js";

const SECRET = "a-secret-of-at-least-thirty-two-characters";
const link = (over: Partial<{ device: string; profile: string; exp: number; sub: string }> = {}) =>
  signLiveToken(SECRET, { device: "door", profile: "high", exp: Date.now() + 60_000, sub: "link:admin", ...over });
const req = (url: string) => parseHlsRequest(url) as HlsRequest;

describe("HLS requests", () => {
  it("reads the camera, the file and a link token from the one query parser", () => {
    expect(req(`/hls/door/high/index.m3u8?token=${link()}&_HLS_msn=3`)).toMatchObject({ device: "door", profile: "high", file: "index.m3u8" });
    expect(req("/hls/door/high/index.m3u8").token).toBeUndefined();
    // Odd queries that once read as a token to one parser and none to another.
    expect(req("/hls/door/high/index.m3u8?token?x").token).toBeUndefined();
    expect(req("/hls/door/high/index.m3u8?a=1&token?=x").token).toBeUndefined();
    expect(parseHlsRequest("/hls/..%2F/high/index.m3u8")).toBe("bad-name");
    expect(parseHlsRequest("/api/devices")).toBeUndefined();
  });

  it("opens HLS without a session only for a valid link token of that camera, with a secret configured", () => {
    const url = (t: string) => `/hls/door/high/index.m3u8?token=${encodeURIComponent(t)}`;
    expect(linkTokenOpens(SECRET, req(url(link())))).toBe(true);
    expect(linkTokenOpens(undefined, req(url(link())))).toBe(false);
    expect(linkTokenOpens(SECRET, req(url("garbage")))).toBe(false);
    expect(linkTokenOpens(SECRET, req(url(link({ profile: "low" }))))).toBe(false);
    expect(linkTokenOpens(SECRET, req(url(link({ exp: Date.now() - 1 }))))).toBe(false);
    // A page's own short viewer token is not a link.
    expect(linkTokenOpens(SECRET, req(url(link({ sub: "web" }))))).toBe(false);
    expect(linkTokenOpens(SECRET, req("/hls/door/high/index.m3u8?token="))).toBe(false);
  });
});
