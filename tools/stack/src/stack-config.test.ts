import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkHubUrl, hubUrlFor, loadStackConfig, stackConfig } from "./stack-config.js";

describe("launcher configuration", () => {
  it("reads the hub settings with their defaults", () => {
    const cfg = loadStackConfig({ PICKET_DEVICE_ID: "door" });
    expect(cfg).toMatchObject({ role: "device", natsPort: 4222, hubLeafPort: 7422, hubMonitorPort: 8222, logFormat: "text" });
    expect(cfg.hubUrl).toBeUndefined();
    expect(loadStackConfig({ PICKET_ROLE: "hub", PICKET_HUB_LEAF_PORT: "17422" })).toMatchObject({ role: "hub", hubLeafPort: 17422 });
  });

  it("refuses a hub URL that is not one, without printing its password", () => {
    expect(() => loadStackConfig({ PICKET_HUB_URL: "http://door:s3cr3t-pass@hub:7422" })).toThrow(/PICKET_HUB_URL: must be a URL like nats-leaf/);
    try {
      loadStackConfig({ PICKET_HUB_URL: "http://door:s3cr3t-pass@hub:7422" });
    } catch (err) {
      expect(String(err)).not.toContain("s3cr3t");
    }
  });

  it("masks the password of the hub URL, and refuses one that logs in as another device", () => {
    const url = hubUrlFor("door", "s3cr3t-pass", "hub.lan", 7422);
    expect(url).toBe("nats-leaf://door:s3cr3t-pass@hub.lan:7422");
    expect(checkHubUrl(url, "door").masked).toBe("nats-leaf://door:***@hub.lan:7422");
    expect(() => checkHubUrl(url, "shed")).toThrow(/logs in as "door" but this device is "shed"/);
  });

  it("is documented in the README, every variable", () => {
    const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "README.md"), "utf8");
    const missing = Object.values(stackConfig)
      .map((e) => e.env)
      .filter((v) => !readme.includes(`| \`${v}\` |`));
    expect(missing).toEqual([]);
  });
});
