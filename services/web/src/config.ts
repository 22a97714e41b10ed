import { isIP } from "node:net";
import { z } from "zod";
import { commonConfig, env, fleetOfflineEntry, opsPortEntry, publicUrlEntry, liveSecretEntry, roleEntry, timeZoneEntry, type ConfigSpec } from "@picket/runtime";

/** `a.b.c.d[/n]` or an IPv6 address or range, comma-separated; empty: trust no proxy. */
export function parseTrustedProxies(raw: string): string[] {
  const list = raw.split(",").map((p) => p.trim()).filter((p) => p !== "");
  for (const p of list) {
    const [addr = "", bits, extra] = p.split("/");
    const v = isIP(addr);
    const maxBits = v === 4 ? 32 : 128;
    if (v === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))) {
      throw new Error(`"${p.slice(0, 60)}" is not an address or range like 127.0.0.1 or 172.16.0.0/12 (name the proxy; "true" would let any client claim any address)`);
    }
  }
  return list;
}

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
    schema: env.parsed("", parseTrustedProxies),
    doc: "Behind a reverse proxy (nginx, Caddy, a tunnel): its addresses, comma-separated (e.g. 127.0.0.1 or 172.16.0.0/12). Only from those is X-Forwarded-For and -Proto believed (the client address for login limits, https for Secure cookies); a client cannot claim another address through it.",
    defaultDoc: "none",
  },
  opsPort: opsPortEntry("web", 9104),
  role: roleEntry,
  fleetOfflineMs: fleetOfflineEntry,
  timeZone: timeZoneEntry,
  streamUrl: {
    env: "PICKET_STREAM_URL",
    schema: env.url("ws://127.0.0.1:8081", ["ws:", "wss:"]),
    doc: "Where the web service finds the stream service; browsers only ever talk to the web port.",
  },
} satisfies ConfigSpec;
