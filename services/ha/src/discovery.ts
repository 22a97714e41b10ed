import { deviceTopics, type Prefixes } from "./topics.js";

/** The entities each device gets in Home Assistant. */
export const ENTITIES = ["presence", "armed", "last_event", "snapshot"] as const;
export type Entity = (typeof ENTITIES)[number];

/** Home Assistant's MQTT platform of each entity. */
const COMPONENT: Record<Entity, string> = { presence: "binary_sensor", armed: "switch", last_event: "sensor", snapshot: "image" };

/** What the discovery configs say of a device: its id and the software version its heartbeats report. */
export interface DeviceInfo {
  id: string;
  version: string;
}

/** One retained discovery message: a JSON config on `<discovery prefix>/<component>/picket_<device>/<entity>/config`. */
export interface DiscoveryMessage {
  entity: Entity;
  topic: string;
  config: Record<string, unknown>;
}

/** `homeassistant/switch/picket_porch/armed/config`. Device ids are valid node ids (A–Z a–z 0–9 _ -). */
export function discoveryTopic(p: Prefixes, device: string, entity: Entity): string {
  return `${p.discovery}/${COMPONENT[entity]}/picket_${device}/${entity}/config`;
}

/**
 * The four discovery configs of a device. Each entity belongs to one Home Assistant device
 * (identifier `picket_<device>`, named by the device id, its version from the heartbeats) and
 * is available only while both the bridge and the device are: the bridge's status topic (its
 * last will says offline) and the device's availability topic (heartbeats) must both say online.
 */
export function discoveryMessages(p: Prefixes, bridgeStatus: string, device: DeviceInfo, bridgeVersion: string): DiscoveryMessage[] {
  const t = deviceTopics(p, device.id);
  const message = (entity: Entity, name: string, fields: Record<string, unknown>): DiscoveryMessage => ({
    entity,
    topic: discoveryTopic(p, device.id, entity),
    config: {
      name,
      unique_id: `picket_${device.id}_${entity}`,
      availability: [{ topic: bridgeStatus }, { topic: t.availability }],
      availability_mode: "all",
      device: { identifiers: [`picket_${device.id}`], name: device.id, manufacturer: "Picket", model: "Picket security camera", sw_version: device.version },
      origin: { name: "Picket", sw_version: bridgeVersion },
      qos: 1,
      ...fields,
    },
  });
  return [
    message("presence", "Presence", { device_class: "occupancy", state_topic: t.presence, payload_on: "ON", payload_off: "OFF" }),
    message("armed", "Armed", {
      icon: "mdi:shield-home",
      state_topic: t.armed,
      command_topic: t.armedSet,
      payload_on: "ON",
      payload_off: "OFF",
      state_on: "ON",
      state_off: "OFF",
      json_attributes_topic: t.armedAttributes,
    }),
    message("last_event", "Last event", { icon: "mdi:history", state_topic: t.lastEvent, json_attributes_topic: t.lastEventAttributes }),
    message("snapshot", "Snapshot", { image_topic: t.snapshot, content_type: "image/jpeg" }),
  ];
}
