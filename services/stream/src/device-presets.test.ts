import { settingsKeys } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { presetsKeyDevice } from "./device-presets.js";

describe("presetsKeyDevice", () => {
  it("reads the device of a presets key", () => {
    expect(presetsKeyDevice(settingsKeys.presets("front-door_2"))).toBe("front-door_2");
  });

  it.each([settingsKeys.motion("pi"), settingsKeys.arming("pi"), "devices.pi.presets.x", "devices..presets", "presets", "x.devices.pi.presets"])("ignores %j", (key) => {
    expect(presetsKeyDevice(key)).toBeUndefined();
  });
});
