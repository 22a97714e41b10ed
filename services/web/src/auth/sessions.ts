import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { Kvm, replicasFor, jetstreamManager, type KV, type Logger, type NatsConnection } from "@picket/runtime";
import { Role, type UserRecord } from "./users.js";

export const SESSIONS_BUCKET = "picket-web-sessions";
const DAY_MS = 24 * 60 * 60_000;
/** lastUsedAt is written at most this often per session, not on every request. */
export const RENEW_EVERY_MS = 60_000;
const CACHE_MS = 3_000;
const CACHE_MAX = 2_000;

/** A session as the bucket stores it (under the SHA-256 of its id, never the id itself). */
export const StoredSession = z.object({
  user: z.string(),
  role: Role,
  csrf: z.string(),
  createdAt: z.number(),
  lastUsedAt: z.number(),
});
export type StoredSession = z.infer<typeof StoredSession>;

export type SessionVerdict = { ok: true; renew: boolean } | { ok: false; reason: "expired" | "user deleted" | "password changed" };

/**
 * Whether a stored session still lets its holder in at `now`: it ends after `idleMs`
 * without use, when its user is gone, and when the user's password changed after it began.
 * `renew` says lastUsedAt is old enough to be written again.
 */
export function judgeSession(s: StoredSession, user: UserRecord | undefined, now: number, idleMs: number): SessionVerdict {
  if (user === undefined) return { ok: false, reason: "user deleted" };
  if (now - s.lastUsedAt >= idleMs) return { ok: false, reason: "expired" };
  if (s.createdAt < user.passwordChangedAt) return { ok: false, reason: "password changed" };
  return { ok: true, renew: now - s.lastUsedAt >= RENEW_EVERY_MS };
}

/** The cookie value's shape: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** The bucket key of a session id: a reader of the bucket cannot turn it back into a cookie. */
export function sessionKey(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

export interface FoundSession {
  key: string;
  session: StoredSession;
  revision: number;
}

/**
 * Sessions in a KV bucket shared by every web replica. Entries age out `sessionDays` after
 * their last write (the bucket's max_age), and each lookup checks the same limit, so a
 * session lasts `sessionDays` without use. Lookups are cached for a few seconds.
 */
export class SessionStore {
  private readonly cache = new Map<string, { found: FoundSession | undefined; at: number }>();
  readonly idleMs: number;

  private constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly now: () => number,
    sessionDays: number,
  ) {
    this.idleMs = sessionDays * DAY_MS;
  }

  static async open(nc: NatsConnection, opts: { log: Logger; sessionDays: number; now?: () => number }): Promise<SessionStore> {
    const ttl = opts.sessionDays * DAY_MS;
    const kv = await new Kvm(nc).create(SESSIONS_BUCKET, { history: 1, ttl, replicas: replicasFor(nc) });
    // create() leaves an existing bucket as it was: follow a changed PICKET_SESSION_DAYS.
    const status = await kv.status();
    if (status.ttl !== ttl) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.update(status.streamInfo.config.name, { max_age: ttl * 1e6 });
    }
    return new SessionStore(kv, opts.log, opts.now ?? Date.now, opts.sessionDays);
  }

  /** Starts a session for `user`; returns its id (the cookie value) and CSRF token. */
  async create(user: string, role: Role, csrf = randomBytes(32).toString("base64url"), at = this.now()): Promise<{ id: string; csrf: string }> {
    const id = randomBytes(32).toString("base64url");
    const session: StoredSession = { user, role, csrf, createdAt: at, lastUsedAt: at };
    const key = sessionKey(id);
    const revision = await this.kv.put(key, JSON.stringify(session));
    this.remember(key, { key, session, revision });
    return { id, csrf };
  }

  /** The stored session of cookie value `id` (not yet judged), or undefined. */
  async find(id: string): Promise<FoundSession | undefined> {
    if (!isSessionId(id)) return undefined;
    const key = sessionKey(id);
    const hit = this.cache.get(key);
    if (hit !== undefined && this.now() - hit.at < CACHE_MS) return hit.found;
    const found = await this.read(key);
    this.remember(key, found);
    return found;
  }

  /**
   * Writes lastUsedAt = now, unless the entry changed meanwhile (a logout on another
   * replica must not be undone): then the session counts only if it still exists.
   */
  async renew(found: FoundSession): Promise<boolean> {
    const session = { ...found.session, lastUsedAt: this.now() };
    try {
      const revision = await this.kv.update(found.key, JSON.stringify(session), found.revision);
      this.remember(found.key, { key: found.key, session, revision });
      return true;
    } catch (err) {
      this.log.debug({ err }, "session changed meanwhile; reading it again");
      const fresh = await this.read(found.key);
      this.remember(found.key, fresh);
      return fresh !== undefined;
    }
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
    this.remember(key, undefined);
  }

  private async read(key: string): Promise<FoundSession | undefined> {
    const e = await this.kv.get(key);
    if (e === null || e.operation !== "PUT") return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(e.string());
    } catch {
      raw = undefined;
    }
    const parsed = StoredSession.safeParse(raw);
    if (!parsed.success) {
      this.log.warn({ key: key.slice(0, 8) }, "ignoring a malformed session record");
      return undefined;
    }
    return { key, session: parsed.data, revision: e.revision };
  }

  private remember(key: string, found: FoundSession | undefined): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.delete(key);
    this.cache.set(key, { found, at: this.now() });
  }
}
