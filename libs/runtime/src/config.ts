import { hostname } from "node:os";
import { z } from "zod";
import { DEVICE_ID_PATTERN, formatIssues, toDeviceId } from "@picket/contracts";

/** One configuration value: the environment variable it comes from, its schema, and what it means. */
export interface ConfigEntry<S extends z.ZodType = z.ZodType> {
  env: `PICKET_${string}`;
  schema: S;
  doc: string;
  /** Shown in documentation instead of the schema's default when that depends on the machine. */
  defaultDoc?: string;
  /** Never printed, not even in errors. */
  secret?: boolean;
  /** Read when `env` is unset (e.g. the device name balena gives every container). */
  fallbackEnv?: string;
}

export type ConfigSpec = Record<string, ConfigEntry>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: z.output<S[K]["schema"]> };

/** Thrown at start when one or more PICKET_ variables are bad; the message names each. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}

/**
 * Reads every entry of `spec` from `env`. Empty strings count as unset. All problems are
 * collected so one start tells the user everything that is wrong.
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: NodeJS.ProcessEnv): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(spec)) {
    const present = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());
    const own = present(env[entry.env]);
    const fallback = own === undefined && entry.fallbackEnv !== undefined ? present(env[entry.fallbackEnv]) : undefined;
    const value = own ?? fallback;
    const result = entry.schema.safeParse(value);
    if (result.success) {
      out[key] = result.data;
    } else {
      // A value taken from the fallback names it: the user never set the PICKET_ one.
      const notes = [fallback === undefined ? "" : `from ${entry.fallbackEnv}`, entry.secret === true || value === undefined ? "" : `got "${value.slice(0, 60)}"`].filter((n) => n !== "");
      const name = notes.length === 0 ? entry.env : `${entry.env} (${notes.join(", ")})`;
      problems.push(hidePasswordsOf(value ?? "", `${name}: ${formatIssues(result.error).replace(/^\(root\): /, "")}`));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** `rtsp://user:secret@host` → `rtsp://user:***@host`, so camera passwords stay out of errors. */
export function hideUrlPasswords(text: string): string {
  return text.replace(/\/\/([^:/@\s"]+):[^@/\s"]*@/g, "//$1:***@");
}

/**
 * `text` (a problem with `value`) without the password of a URL in `value`, also where the
 * text quotes the value cut short inside the password, as parse messages and `got "…"` do.
 */
function hidePasswordsOf(value: string, text: string): string {
  // Up to the last @, as URL parsers read it.
  const m = /\/\/([^:/@\s"]*):(.*)@/.exec(value);
  const [user, pass] = [m?.[1] ?? "", m?.[2] ?? ""];
  let out = text;
  if (pass.length >= 4) out = out.split(pass).join("***");
  for (let k = pass.length; k > 0; k--) out = out.split(`//${user}:${pass.slice(0, k)}`).join(`//${user}:***`);
  return hideUrlPasswords(out);
}

/** Schema helpers for environment strings. */
export const env = {
  int: (def: number, min: number, max: number) =>
    z
      .string()
      .regex(/^-?\d+$/, "must be an integer")
      .transform(Number)
      .pipe(z.number().int().min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`))
      .optional()
      .transform((v) => v ?? def),
  port: (def: number) => env.int(def, 0, 65535),
  bool: (def: boolean) =>
    z
      .enum(["1", "0", "true", "false", "yes", "no", "on", "off"], { message: "must be true or false" })
      .optional()
      .transform((v) => (v === undefined ? def : ["1", "true", "yes", "on"].includes(v))),
  str: (def: string) =>
    z
      .string()
      .optional()
      .transform((v) => v ?? def),
  optionalStr: () => z.string().optional(),
  /** A value parsed by a function that throws with a message a user can act on. */
  parsed: <T>(def: string, parse: (raw: string) => T) =>
    z
      .string()
      .optional()
      .transform((v, ctx): T => {
        try {
          return parse(v ?? def);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
          return z.NEVER;
        }
      }),
  oneOf: <T extends string>(values: readonly [T, ...T[]], def: T) =>
    z
      .enum(values, { message: `must be one of ${values.join(", ")}` })
      .optional()
      .transform((v) => v ?? def),
  url: (def: string, protocols: string[]) =>
    z
      .string()
      .optional()
      .transform((v) => v ?? def)
      .refine((v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, `must be a URL (${protocols.join(" or ")})`),
};

/** The settings every service shares. */
export const commonConfig = {
  deviceId: {
    env: "PICKET_DEVICE_ID",
    fallbackEnv: "BALENA_DEVICE_NAME_AT_INIT",
    schema: z
      .string()
      .regex(DEVICE_ID_PATTERN, "must be 1–64 of A–Z a–z 0–9 _ -")
      .optional()
      .transform((v) => v ?? toDeviceId(hostname())),
    doc: "This device's id in subjects, the UI and alerts.",
    defaultDoc: "balena's device name, else the host name",
  },
  jsReplicas: {
    env: "PICKET_JS_REPLICAS",
    schema: env.oneOf(["1", "3", "5"], "1"),
    doc: "Copies of each stream and bucket the services make: 3 on a hub whose NATS is a cluster of three servers (or 5 of five), so losing one loses no alarm, setting or lease; 1 on a lone server. Never lowers a stream that has more.",
  },
  natsUrl: {
    env: "PICKET_NATS_URL",
    schema: env.url("nats://127.0.0.1:4222", ["nats:", "tls:"]),
    doc: "The NATS server to use. `npm start` spawns one on 127.0.0.1:4222 unless this is set.",
    defaultDoc: "nats://127.0.0.1:4222",
  },
  logLevel: {
    env: "PICKET_LOG_LEVEL",
    schema: env.oneOf(["fatal", "error", "warn", "info", "debug", "trace"], "info"),
    doc: "Log level: fatal, error, warn, info, debug, trace.",
  },
  exitWithParent: {
    env: "PICKET_EXIT_WITH_PARENT",
    schema: env.bool(false),
    doc: "Stop when stdin closes. `npm start`'s launcher sets it, so no service outlives the launcher.",
  },
  heartbeatMs: {
    env: "PICKET_HEARTBEAT_MS",
    schema: env.int(2000, 200, 60_000),
    doc: "How often each service publishes its heartbeat, ms.",
  },
} satisfies ConfigSpec;

/** The secret the web service signs viewer tokens with and the stream service checks them with. */
export const liveSecretEntry = {
  env: "PICKET_LIVE_SECRET",
  schema: z.string().min(32, "must be at least 32 characters").optional(),
  secret: true,
  doc: "Shared by the web and stream services: web signs short-lived viewer tokens (and HLS links) with it, and the stream serves video only to viewers with one. Unset, the two take a random one they keep in the bus (the `picket-secrets` bucket), made on first start; set it to revoke every HLS link at once.",
  defaultDoc: "random, kept in the bus",
} satisfies ConfigEntry;

/** The web UI's address as the household reaches it (bot links, web origin checks). */
export const publicUrlEntry = {
  env: "PICKET_PUBLIC_URL",
  schema: z
    .string()
    .refine((v) => URL.canParse(v) && ["https:", "http:"].includes(new URL(v).protocol), "must be an http(s) URL")
    .optional(),
  doc: "The web UI's address as the household reaches it from their phones (e.g. https://cam.example.org/): alerts link there, and pages served from it may open the cameras.",
  defaultDoc: "none",
} satisfies ConfigEntry;

/** An IANA time zone name, resolved to its canonical spelling; throws a message a user can act on. */
export function validateTimeZone(tz: string): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`"${tz.slice(0, 64)}" is not a known time zone: use an IANA name such as Europe/Berlin or America/New_York`);
  }
}

/** The household's time zone: arming schedules, quiet hours, times in alerts and file names. */
export const timeZoneEntry = {
  env: "PICKET_TZ",
  schema: env.parsed("", (raw) => (raw === "" ? Intl.DateTimeFormat().resolvedOptions().timeZone : validateTimeZone(raw))),
  doc: "Time zone of the arming schedule, quiet hours and the times in alerts and downloads (IANA name such as Europe/Berlin).",
  defaultDoc: "the system's",
} satisfies ConfigEntry;

/** Whether this runs a device (its camera and PIR) or a hub that watches many devices. */
export const roleEntry = {
  env: "PICKET_ROLE",
  schema: env.oneOf(["device", "hub"], "device"),
  doc: "`device`: a camera and its PIR, with its own services. `hub`: many devices report here (as leaf nodes of its NATS); `npm start` runs the hub's NATS, the fleet failure detector, web, stream and a bot for the whole household, and the bot also tells when a device goes offline, comes back or is unwell.",
} satisfies ConfigEntry;

/** A hub's limit of silence: the fleet detector's offline (alerts) and the hub's Devices tab agree on it. */
export const fleetOfflineEntry = {
  env: "PICKET_FLEET_OFFLINE_MS",
  schema: env.int(6_000, 1_000, 600_000),
  doc: "Hub: a device none of whose services has sent a heartbeat for this long is offline (an alert, and `offline` in Devices). Keep it at least 3 heartbeats (PICKET_HEARTBEAT_MS of the devices).",
} satisfies ConfigEntry;

/** The ops port (/healthz, /metrics) of one service; 0 picks a free one. */
export function opsPortEntry(service: string, def: number) {
  return {
    env: `PICKET_${service.toUpperCase()}_OPS_PORT` as const,
    schema: env.port(def),
    doc: `Port of the ${service} service's /healthz and /metrics.`,
  } satisfies ConfigEntry;
}
