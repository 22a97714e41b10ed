import { z } from "zod";
import { commonConfig, env, opsPortEntry, roleEntry, type ConfigOf, type ConfigSpec } from "@picket/runtime";
import { parseBrokerUrl } from "./broker-url.js";

/** MQTT topic levels without wildcards: `homeassistant`, `home/picket`. */
const TOPIC_LEVELS = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const topicPrefix = (def: string) =>
  z
    .string()
    .regex(TOPIC_LEVELS, "must be MQTT topic levels of A–Z a–z 0–9 _ - separated by /, without wildcards or a trailing /")
    .optional()
    .transform((v) => v ?? def);

/** The Home Assistant bridge's settings; nothing else reads `process.env`. */
export const haConfig = {
  ...commonConfig,
  mqtt: {
    env: "PICKET_MQTT_URL",
    schema: env.parsed("", (raw) => (raw === "" ? undefined : parseBrokerUrl(raw))),
    // The URL carries the broker's password.
    secret: true,
    doc: "The MQTT broker Home Assistant uses, e.g. mqtt://user:password@homeassistant.local:1883 (also mqtts://, ws://, wss://; %-encode an @ or : in the password). The ha service publishes every device's entities there by MQTT discovery and takes the armed switch's commands. Unset, the ha service stays up and does nothing.",
    defaultDoc: "none: the bridge is off",
  },
  discoveryPrefix: {
    env: "PICKET_MQTT_DISCOVERY_PREFIX",
    schema: topicPrefix("homeassistant"),
    doc: "The topic prefix Home Assistant's MQTT integration reads discovery configs from (its own setting of the same name).",
  },
  topicPrefix: {
    env: "PICKET_MQTT_TOPIC_PREFIX",
    schema: topicPrefix("picket"),
    doc: "The prefix of the bridge's state and command topics: `<prefix>/<device>/presence`, `…/armed`, `…/armed/set`, `…/last_event`, `…/snapshot`, `…/availability`.",
  },
  opsPort: opsPortEntry("ha", 9106),
  role: roleEntry,
} satisfies ConfigSpec;

export type HaConfig = ConfigOf<typeof haConfig>;
