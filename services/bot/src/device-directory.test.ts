import { describe, expect, it } from "vitest";
import { DeviceDirectory } from "./device-directory.js";

describe("DeviceDirectory", () => {
  it("lists its own camera first, then the others by name, online while heartbeats come", () => {
    const d = new DeviceDirectory("porch");
    expect(d.list(0)).toEqual([{ device: "porch", online: false, lastSeen: undefined }]);
    d.heard("garden", 1_000);
    d.heard("porch", 1_000);
    d.heard("attic", 5_000);
    expect(d.list(10_000).map((x) => [x.device, x.online])).toEqual([
      ["porch", true],
      ["attic", true],
      ["garden", true],
    ]);
    // garden goes quiet: offline after 30 s, with the time it was last heard.
    d.heard("porch", 40_000);
    d.heard("attic", 40_000);
    expect(d.list(45_000).find((x) => x.device === "garden")).toEqual({ device: "garden", online: false, lastSeen: 1_000 });
    // A late, older heartbeat does not turn the clock back.
    d.heard("porch", 2_000);
    expect(d.list(45_000)[0]?.lastSeen).toBe(40_000);
  });
});
