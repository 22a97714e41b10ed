import { commonConfig, env, fleetOfflineEntry, opsPortEntry, type ConfigSpec } from "@picket/runtime";
import { z } from "zod";

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
  registryFile: {
    env: "PICKET_FLEET_REGISTRY",
    schema: z.string().min(1).optional(),
    doc: "Hub: the registry of devices that `npm run hub` keeps (`npm start` sets it): the detector follows only the devices listed there, and forgets one removed from it (its state, its news, the hub's feed of its events). Unset: every device heard.",
    defaultDoc: "none: every device heard",
  },
  opsPort: opsPortEntry("fleet", 9105),
} satisfies ConfigSpec;
