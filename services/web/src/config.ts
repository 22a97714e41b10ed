import { z } from "zod";
import { commonConfig, env, opsPortEntry, publicUrlEntry, liveSecretEntry, timeZoneEntry, type ConfigSpec } from "@picket/runtime";

export const webConfig = {
  ...commonConfig,
  liveSecret: liveSecretEntry,
  publicUrl: publicUrlEntry,
  port: { env: "PICKET_HTTP_PORT", schema: env.port(8080), doc: "Port of the web UI and HTTP API (also /healthz and /metrics)." },
  host: { env: "PICKET_HTTP_HOST", schema: env.str("0.0.0.0"), doc: "Address the web UI listens on." },
  adminPassword: {
    env: "PICKET_ADMIN_PASSWORD",
    schema: z.string().min(10, "must be at least 10 characters").max(200).optional(),
    doc: "The web UI's admin password, set at every start (the user is `admin`). Unset: a random one is made on first start and shown once in the log; change it in Settings.",
    defaultDoc: "(generated)",
    secret: true,
  },
  sessionDays: { env: "PICKET_SESSION_DAYS", schema: env.int(30, 1, 365), doc: "A login lasts this many days without use (each visit renews it)." },
  trustProxy: {
    env: "PICKET_HTTP_TRUST_PROXY",
    schema: env.bool(false),
    doc: "Behind a reverse proxy (nginx, Caddy, a tunnel): take the client address and https from its X-Forwarded-* headers, for login rate limits and Secure cookies.",
  },
  opsPort: opsPortEntry("web", 9104),
  timeZone: timeZoneEntry,
  streamUrl: {
    env: "PICKET_STREAM_URL",
    schema: env.url("ws://127.0.0.1:8081", ["ws:", "wss:"]),
    doc: "Where the web service finds the stream service; browsers only ever talk to the web port.",
  },
} satisfies ConfigSpec;
