import { describe, expect, it } from "vitest";
import type { DeviceStatusEvent } from "@picket/contracts";
import { deviceStatusMessage } from "./device-status-text.js";

const at = Date.UTC(2026, 10, 24, 21, 5, 0);
const ev = (extra: Partial<DeviceStatusEvent>): DeviceStatusEvent => ({ id: "dev-abcdefgh", kind: "device", device: "door", state: "offline", previous: "online", reason: "not heard from for 7 s", at, ...extra });

describe("deviceStatusMessage", () => {
  it("rings for a device gone silent, saying for how long and when it was last heard", () => {
    expect(deviceStatusMessage(ev({ lastHeartbeatAt: at - 7_000 }), "UTC")).toEqual({ text: "📴 door is offline: not heard from for 7 s. Last heard 2026-11-24 21:04:53 UTC.", quiet: false });
  });

  it("says quietly that a device is back, and how long it was gone", () => {
    expect(deviceStatusMessage(ev({ state: "online", previous: "offline", reason: "heard again", downMs: 185_000 }))).toEqual({ text: "✅ door is back online after 3 min offline.", quiet: true });
    expect(deviceStatusMessage(ev({ state: "online", previous: "degraded", reason: "well again" })).text).toBe("✅ door is well again.");
    expect(deviceStatusMessage(ev({ state: "online", previous: "new", reason: "heard for the first time" })).text).toBe("🆕 door joined: the hub now watches it.");
  });

  it("rings for a device that lives but is unwell, and for one that comes back unwell", () => {
    expect(deviceStatusMessage(ev({ state: "degraded", reason: "the camera's newest frame is 12 s old" }))).toEqual({ text: "⚠️ door is not well: the camera's newest frame is 12 s old.", quiet: false });
    expect(deviceStatusMessage(ev({ state: "degraded", previous: "offline", reason: "the camera service has been silent for 40 s" })).text).toBe("⚠️ door is back but not well: the camera service has been silent for 40 s.");
  });
});
