import { commonConfig, env, fleetOfflineEntry, opsPortEntry, type ConfigSpec } from "@picket/runtime";

export const fleetConfig = {
  ...commonConfig,
  offlineAfterMs: fleetOfflineEntry,
  degradedAfterMs: {
    env: "PICKET_FLEET_DEGRADED_MS",
    schema: env.int(4_000, 0, 600_000),
    doc: "Hub: a device whose camera (or one of whose services) is unwell for this long is announced degraded.",
  },
  maxDevices: {
    env: "PICKET_FLEET_MAX_DEVICES",
    schema: env.int(5_000, 1, 100_000),
    doc: "Hub: the most devices the failure detector follows (heartbeats of further device ids are ignored).",
  },
  opsPort: opsPortEntry("fleet", 9105),
} satisfies ConfigSpec;
