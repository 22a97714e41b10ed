import { describe, expect, it } from "vitest";
import { configFamily } from "../../../test/bad-input/properties/configs.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";
import { ConfigError, commonConfig, liveSecretEntry, loadConfig, opsPortEntry, publicUrlEntry, timeZoneEntry } from "./config.js";

// The runtime's own entries here; every service's spec in test/bad-input/families.test.ts.
propertyTests([configFamily([{ name: "runtime", spec: { ...commonConfig, liveSecret: liveSecretEntry, publicUrl: publicUrlEntry, timeZone: timeZoneEntry, opsPort: opsPortEntry("test", 9100) } }], "shared configuration entries from the environment")]);

function problems(spec: Parameters<typeof loadConfig>[0], env: Record<string, string>): string[] {
  try {
    loadConfig(spec, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("bad input regressions: configuration messages", () => {
  it("names the fallback variable that held a bad device name", () => {
    expect(problems(commonConfig, { BALENA_DEVICE_NAME_AT_INIT: "Front Door" })).toEqual([
      'PICKET_DEVICE_ID (from BALENA_DEVICE_NAME_AT_INIT, got "Front Door"): must be 1–64 of A–Z a–z 0–9 _ -',
    ]);
  });

  it("hides a URL's password also where a message quotes the value cut inside it", () => {
    const spec = { pir: { env: "PICKET_T_PIR", schema: commonConfig.deviceId.schema, doc: "" } } as const;
    const password = "correct-horse-battery-staple-0123456789";
    const [line] = problems(spec, { PICKET_T_PIR: `rtsp://admin:${password}@cam.local/stream` });
    expect(line).toContain('got "rtsp://admin:***');
    expect(line).not.toContain("correct-horse");
    const [spaced] = problems(spec, { PICKET_T_PIR: "rtsp://admin:a@*@= @-;$~@cam.local:554/stream" });
    expect(spaced).toContain('got "rtsp://admin:***@cam.local:554/stream"');
  });
});
