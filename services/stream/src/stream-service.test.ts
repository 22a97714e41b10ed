import { describe, expect, it } from "vitest";
import { parseLivePath } from "./stream-service.js";

describe("parseLivePath", () => {
  it("reads device and profile", () => {
    expect(parseLivePath("/live/pi/high")).toEqual({ device: "pi", profile: "high" });
    expect(parseLivePath("/live/Front-Door_2/low")).toEqual({ device: "Front-Door_2", profile: "low" });
  });

  it("ignores the query string", () => {
    expect(parseLivePath("/live/pi/high?t=123&x=/y")).toEqual({ device: "pi", profile: "high" });
  });

  it("decodes percent-encoding before checking the names", () => {
    expect(parseLivePath("/live/p%69/high")).toEqual({ device: "pi", profile: "high" });
  });

  it.each([
    undefined,
    "",
    "/",
    "/live",
    "/live/pi",
    "/live/pi/",
    "/live//high",
    "/live/pi/high/extra",
    "/live/pi/high/",
    "/other/pi/high",
    "live/pi/high",
    "/live/pi.local/high",
    "/live/*/high",
    "/live/>/high",
    "/live/pi/HIGH",
    "/live/pi/high.x",
    "/live/../high",
    "/live/..%2F..%2Fetc/passwd",
    "/live/pi%2Fhigh/low",
    "/live/pi/%2e%2e",
    "/live/pi%00/high",
    `/live/${"a".repeat(65)}/high`,
  ])("rejects %j", (url) => {
    expect(parseLivePath(url)).toBeUndefined();
  });

  it.each(["/live/%zz/high", "/live/pi/%E0%A4%A", "/live/%/high"])("rejects malformed percent-encoding %j instead of throwing", (url) => {
    expect(parseLivePath(url)).toBeUndefined();
  });
});
