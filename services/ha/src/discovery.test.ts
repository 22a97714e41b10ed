import { describe, expect, it } from "vitest";
import { ENTITIES, discoveryMessages } from "./discovery.js";
import { armedCommandFilter, bridgeStatusTopic, deviceOfArmedCommand, deviceTopics } from "./topics.js";

const p = { discovery: "homeassistant", topic: "picket" };
const status = bridgeStatusTopic(p, "hub");

describe("discovery configs", () => {
  const messages = discoveryMessages(p, status, { id: "porch-cam", version: "0.3.1" }, "0.3.2");
  const byEntity = Object.fromEntries(messages.map((m) => [m.entity, m]));

  it("are four per device, on Home Assistant's discovery topics, with unique ids", () => {
    expect(messages.map((m) => m.topic)).toEqual([
      "homeassistant/binary_sensor/picket_porch-cam/presence/config",
      "homeassistant/switch/picket_porch-cam/armed/config",
      "homeassistant/sensor/picket_porch-cam/last_event/config",
      "homeassistant/image/picket_porch-cam/snapshot/config",
    ]);
    expect(messages.map((m) => m.entity)).toEqual([...ENTITIES]);
    expect(new Set(messages.map((m) => m.config.unique_id)).size).toBe(4);
  });

  it("put every entity in one device, named by the device id, with the version its heartbeats report", () => {
    for (const m of messages) {
      expect(m.config.device).toEqual({ identifiers: ["picket_porch-cam"], name: "porch-cam", manufacturer: "Picket", model: "Picket security camera", sw_version: "0.3.1" });
      expect(m.config.origin).toEqual({ name: "Picket", sw_version: "0.3.2" });
    }
  });

  it("make every entity unavailable unless both the bridge and the device say online", () => {
    for (const m of messages) {
      expect(m.config.availability).toEqual([{ topic: "picket/bridge/hub/status" }, { topic: "picket/porch-cam/availability" }]);
      expect(m.config.availability_mode).toBe("all");
    }
  });

  it("give each entity its state, command and image topics", () => {
    const t = deviceTopics(p, "porch-cam");
    expect(byEntity.presence?.config).toMatchObject({ device_class: "occupancy", state_topic: t.presence, payload_on: "ON", payload_off: "OFF" });
    expect(byEntity.armed?.config).toMatchObject({ state_topic: t.armed, command_topic: "picket/porch-cam/armed/set", payload_on: "ON", payload_off: "OFF", json_attributes_topic: t.armedAttributes });
    expect(byEntity.last_event?.config).toMatchObject({ state_topic: t.lastEvent, json_attributes_topic: t.lastEventAttributes });
    expect(byEntity.snapshot?.config).toMatchObject({ image_topic: "picket/porch-cam/snapshot", content_type: "image/jpeg" });
  });

  it("follow the configured prefixes", () => {
    const q = { discovery: "ha-test", topic: "home/cams" };
    const [presence] = discoveryMessages(q, bridgeStatusTopic(q, "pi"), { id: "pi", version: "1" }, "1");
    expect(presence?.topic).toBe("ha-test/binary_sensor/picket_pi/presence/config");
    expect(presence?.config.state_topic).toBe("home/cams/pi/presence");
  });
});

describe("armed switch command topics", () => {
  it("name the device, and nothing else passes", () => {
    expect(armedCommandFilter(p)).toBe("picket/+/armed/set");
    expect(deviceOfArmedCommand(p, "picket/porch-cam/armed/set")).toBe("porch-cam");
    for (const topic of ["picket/porch-cam/armed", "other/porch-cam/armed/set", "picket/a.b/armed/set", "picket//armed/set", "picket/a/b/armed/set"]) {
      expect(deviceOfArmedCommand(p, topic), topic).toBeUndefined();
    }
  });
});
