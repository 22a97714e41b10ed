import { isConfigError, loadConfig } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { parseBrokerUrl } from "./broker-url.js";
import { haConfig } from "./config.js";

const SECRET = "s3cr%40t-pass";

describe("PICKET_MQTT_URL", () => {
  it("takes the credentials out of the URL, %-decoded, and shows the URL without the password", () => {
    const b = parseBrokerUrl(`mqtt://ha-user:${SECRET}@homeassistant.local:1883`);
    expect(b).toEqual({ url: "mqtt://homeassistant.local:1883", username: "ha-user", password: "s3cr@t-pass", display: "mqtt://ha-user:***@homeassistant.local:1883" });
    expect(parseBrokerUrl("wss://broker.example.org/mqtt")).toEqual({ url: "wss://broker.example.org/mqtt", display: "wss://broker.example.org/mqtt" });
    expect(parseBrokerUrl("mqtts://only-user@10.0.0.2:8883").display).toBe("mqtts://only-user@10.0.0.2:8883");
  });

  it("refuses what is not a broker URL, never quoting the password", () => {
    const cases: [string, RegExp][] = [
      [`http://u:${SECRET}@host`, /must start with mqtt:\/\//],
      [`mqtt://u:${SECRET}@host/?x=1`, /query/],
      ["mqtt://u:%E0%A4%A@host", /%-encoding/],
      [`not a url ${SECRET}`, /must be a URL/],
    ];
    for (const [raw, message] of cases) {
      let error: Error | undefined;
      try {
        parseBrokerUrl(raw);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message, raw).toMatch(message);
      expect(error?.message).not.toContain("s3cr");
    }
  });

  it("is off when unset, and a bad value fails the start naming the variable without the password", () => {
    expect(loadConfig(haConfig, {}).mqtt).toBeUndefined();
    try {
      loadConfig(haConfig, { PICKET_MQTT_URL: `ftp://u:${SECRET}@host` });
      expect.unreachable();
    } catch (err) {
      expect(isConfigError(err)).toBe(true);
      expect((err as Error).message).toMatch(/PICKET_MQTT_URL: must start with mqtt:\/\//);
      expect((err as Error).message).not.toContain("s3cr");
    }
  });
});

describe("topic prefixes", () => {
  it("default to Home Assistant's and picket, and take nested levels", () => {
    const cfg = loadConfig(haConfig, { PICKET_MQTT_TOPIC_PREFIX: "home/cams" });
    expect([cfg.discoveryPrefix, cfg.topicPrefix]).toEqual(["homeassistant", "home/cams"]);
  });

  it("refuse wildcards, empty levels and a trailing slash", () => {
    for (const bad of ["home/#", "a/+/b", "picket/", "/picket", "a//b", "pi cket"]) {
      expect(() => loadConfig(haConfig, { PICKET_MQTT_DISCOVERY_PREFIX: bad }), bad).toThrow(/PICKET_MQTT_DISCOVERY_PREFIX \(got ".*"\): must be MQTT topic levels/);
    }
  });
});
