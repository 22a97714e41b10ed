import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Short-lived signed tokens that let a viewer watch a camera: the web service (which knows who
 * is logged in) signs one per viewer, the stream service checks it before the first byte of
 * video. Stateless: HMAC-SHA256 over the claims with a secret both services share
 * (`PICKET_LIVE_SECRET`). A token is only needed to start watching; the socket then lives on.
 */
export interface LiveClaims {
  /** The device, or `*` for every device. */
  device: string;
  /** The profile, or `*` for every profile. */
  profile: string;
  /** Expiry, ms since epoch. */
  exp: number;
  /** Who watches (a user name, for the stream's log). */
  sub?: string;
}

export type LiveTokenCheck = { ok: true; claims: LiveClaims } | { ok: false; reason: "malformed" | "bad-signature" | "expired" | "wrong-camera" };

/** A secret good enough to sign tokens: at least 32 characters. */
export const MIN_LIVE_SECRET_LENGTH = 32;

/** A fresh random secret (for a launcher that starts both services and has none configured). */
export function newLiveSecret(): string {
  return randomBytes(32).toString("base64url");
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const mac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest();

/** `<claims, base64url JSON>.<HMAC-SHA256, base64url>`. */
export function signLiveToken(secret: string, claims: LiveClaims): string {
  const body = b64(JSON.stringify(claims));
  return `${body}.${b64(mac(secret, body))}`;
}

/** Checks a token for watching `device`/`profile` at `now`; never throws on bad input. */
export function checkLiveToken(secret: string, token: unknown, device: string, profile: string, now = Date.now()): LiveTokenCheck {
  if (typeof token !== "string" || token.length > 2_048) return { ok: false, reason: "malformed" };
  const [body, sig, extra] = token.split(".");
  if (body === undefined || sig === undefined || extra !== undefined || body === "" || sig === "") return { ok: false, reason: "malformed" };
  const expected = mac(secret, body);
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad-signature" };
  let claims: LiveClaims;
  try {
    const parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Partial<LiveClaims>;
    if (typeof parsed.device !== "string" || typeof parsed.profile !== "string" || typeof parsed.exp !== "number") return { ok: false, reason: "malformed" };
    claims = { device: parsed.device, profile: parsed.profile, exp: parsed.exp, ...(typeof parsed.sub === "string" ? { sub: parsed.sub } : {}) };
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (claims.exp <= now) return { ok: false, reason: "expired" };
  if ((claims.device !== "*" && claims.device !== device) || (claims.profile !== "*" && claims.profile !== profile)) return { ok: false, reason: "wrong-camera" };
  return { ok: true, claims };
}

/** The KV bucket with secrets the household's services share (never settings a user edits). */
export const SECRETS_BUCKET = "picket-secrets";

/**
 * The secret viewer tokens are signed with: PICKET_LIVE_SECRET when set, else the one kept in
 * the secrets bucket, made by whichever service starts first (create-if-absent, so the web and
 * the stream service always agree). Live video is therefore never open to anyone who reaches
 * the stream port, whatever the configuration.
 */
export async function resolveLiveSecret(kv: { create(k: string, v: string): Promise<number>; get(k: string): Promise<{ string(): string } | null> }, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined) return fromEnv;
  const stored = async () => {
    const e = await kv.get("live");
    const s = e?.string() ?? "";
    return s.length >= MIN_LIVE_SECRET_LENGTH ? s : undefined;
  };
  const existing = await stored();
  if (existing !== undefined) return existing;
  try {
    const fresh = newLiveSecret();
    await kv.create("live", fresh);
    return fresh;
  } catch {
    // Another service made it first.
    const theirs = await stored();
    if (theirs === undefined) throw new Error(`the shared viewer-token secret in the ${SECRETS_BUCKET} bucket is unreadable; set PICKET_LIVE_SECRET`);
    return theirs;
  }
}
