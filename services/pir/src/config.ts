import { commonConfig, env, opsPortEntry, type ConfigSpec } from "@picket/runtime";
import { parseDriverSpec } from "./drivers/driver.js";

export const pirConfig = {
  ...commonConfig,
  pir: {
    env: "PICKET_PIR",
    schema: env.parsed("sim", parseDriverSpec),
    doc: "PIR driver: sim (edges injected over NATS or `npm run pir`) or gpio:<BCM pin>.",
    defaultDoc: "sim",
  },
  debounceMs: { env: "PICKET_PIR_DEBOUNCE_MS", schema: env.int(50, 0, 5_000), doc: "After a PIR change, further changes within this time are held, ms (the first change is reported at once)." },
  cooldownMs: { env: "PICKET_PRESENCE_COOLDOWN_MS", schema: env.int(30_000, 0, 3_600_000), doc: "After an alarm, PIR rises within this time raise no new one, ms." },
  armed: { env: "PICKET_ARMED", schema: env.bool(true), doc: "Armed at first start (later changes live in the settings bucket)." },
  opsPort: opsPortEntry("pir", 9102),
} satisfies ConfigSpec;
