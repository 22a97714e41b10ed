/** What the limiter says about a client before it may try a password. */
export type LimitVerdict = { ok: true } | { ok: false; retryAfterS: number };

export interface LoginLimiterOptions {
  /** Failures allowed within `windowMs`; the next attempt is refused. Default 10. */
  maxFailures?: number;
  /** Default 10 minutes. */
  windowMs?: number;
  /** Clients remembered at most; past that the least recently failing are forgotten. Default 10 000. */
  maxClients?: number;
}

/**
 * Counts failed logins per client address in a sliding window. Pure: the caller passes the
 * time. Memory is bounded by `maxClients × maxFailures` timestamps; a success does not
 * reset the count (else one known account would let a client guess others without limit).
 */
export class LoginLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  /** Failure times per client, oldest first; Map order = least recently failing first. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: LoginLimiterOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxClients = opts.maxClients ?? 10_000;
  }

  /** Whether `client` may try now; if not, how many seconds until its oldest counted failure ages out. */
  check(client: string, now: number): LimitVerdict {
    const times = this.recent(client, now);
    if (times.length < this.maxFailures) return { ok: true };
    const oldest = times[times.length - this.maxFailures] as number;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
  }

  /** Records a failed attempt by `client` at `now`. */
  fail(client: string, now: number): void {
    const times = this.recent(client, now);
    times.push(now);
    if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
    this.failures.delete(client);
    this.failures.set(client, times);
    if (this.failures.size > this.maxClients) this.forget(now);
  }

  /** Clients currently remembered (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  private recent(client: string, now: number): number[] {
    const times = this.failures.get(client);
    if (times === undefined) return [];
    const fresh = times.filter((t) => t > now - this.windowMs);
    if (fresh.length === 0) this.failures.delete(client);
    return fresh;
  }

  /** Drops clients whose failures all aged out, then the least recently failing until under the cap. */
  private forget(now: number): void {
    for (const [client, times] of this.failures) {
      if ((times[times.length - 1] as number) <= now - this.windowMs) this.failures.delete(client);
    }
    for (const client of this.failures.keys()) {
      if (this.failures.size <= this.maxClients) break;
      this.failures.delete(client);
    }
  }
}
