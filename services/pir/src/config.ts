import { commonConfig, env, opsPortEntry, timeZoneEntry, type ConfigSpec } from "@picket/runtime";
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
  presenceMode: {
    env: "PICKET_PRESENCE_MODE",
    schema: env.oneOf(["auto", "pir", "motion", "pir+motion", "pir|motion"] as const, "auto"),
    doc: "What raises an alarm: pir alone, motion (camera) alone, pir+motion (PIR confirmed by camera motion), pir|motion (either). auto: pir+motion while the camera's motion detector reports, pir alone when it does not.",
  },
  confirmMs: { env: "PICKET_PRESENCE_CONFIRM_MS", schema: env.int(4_000, 100, 60_000), doc: "pir+motion: PIR and camera motion must come within this time of each other, ms." },
  pulses: { env: "PICKET_PIR_PULSES", schema: env.int(1, 1, 10), doc: "Activation pattern: PIR rises needed within PICKET_PIR_PULSE_WINDOW_MS to count (2 cuts single-pulse false alarms)." },
  pulseWindowMs: { env: "PICKET_PIR_PULSE_WINDOW_MS", schema: env.int(10_000, 1_000, 120_000), doc: "Activation pattern window, ms." },
  motionMinMs: { env: "PICKET_MOTION_MIN_MS", schema: env.int(1_000, 0, 60_000), doc: "motion and pir|motion: camera motion must last this long to count, ms." },
  eventGapMs: { env: "PICKET_PRESENCE_GAP_MS", schema: env.int(15_000, 1_000, 3_600_000), doc: "No PIR or motion for this long ends a presence; anything before merges into one event, ms." },
  cooldownMs: { env: "PICKET_PRESENCE_COOLDOWN_MS", schema: env.int(10_000, 0, 3_600_000), doc: "After a presence ends, no new one starts for this long, ms." },
  timeZone: timeZoneEntry,
  warmupS: { env: "PICKET_PIR_WARMUP_S", schema: env.int(60, 0, 600), doc: "gpio: seconds after start while the HC-SR501 settles; its edges are ignored meanwhile." },
  blockMs: { env: "PICKET_PIR_BLOCK_MS", schema: env.int(2_500, 0, 10_000), doc: "The HC-SR501's block time: after its output falls it cannot rise for about 2.5–3 s, ms. gpio: a rise sooner is a glitch and ignored; sim: the emulated sensor blocks this long." },
  stuckS: { env: "PICKET_PIR_STUCK_S", schema: env.int(600, 0, 86_400), doc: "A PIR high this long is a fault (a heater in view), not a visitor: it is ignored until it falls, seconds (0: never)." },
  holdS: { env: "PICKET_PIR_HOLD_S", schema: env.int(3, 1, 300), doc: "sim: the emulated HC-SR501's hold time, seconds." },
  trigger: { env: "PICKET_PIR_TRIGGER", schema: env.oneOf(["repeat", "single"] as const, "repeat"), doc: "sim: the emulated HC-SR501's trigger jumper: repeat (H) or single (L)." },
  simSignal: {
    env: "PICKET_PIR_SIM_SIGNAL",
    schema: env.bool(false),
    doc: "sim: a SIGUSR2 sent to the pir process is one 300 ms PIR pulse, so a test or a demo can drive the sensor while the bus is down. Off by default (SIGUSR2 then stops the process, as for any program).",
  },
  outboxDir: {
    env: "PICKET_OUTBOX_DIR",
    schema: env.str("data/outbox"),
    doc: "Directory of the events outbox: each presence event is written (and fsync'ed) there before it is published, and dropped once JetStream has it, so events raised while the bus is down survive a restart or a power cut. Keep it on persistent storage. A relative path is taken from the working directory.",
    defaultDoc: "data/outbox",
  },
  armed: { env: "PICKET_ARMED", schema: env.bool(true), doc: "Armed at first start (later changes live in the settings bucket)." },
  opsPort: opsPortEntry("pir", 9102),
} satisfies ConfigSpec;
