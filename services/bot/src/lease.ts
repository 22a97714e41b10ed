import { Kvm, realTimers, type KV, type Logger, type NatsConnection, type Timers } from "@picket/runtime";

/** The bucket whose one key says which bot replica talks to Telegram. */
export const BOT_LEASE_BUCKET = "picket-bot-lease";
const KEY = "telegram";

/** The part of a KV bucket the lease uses: create-if-absent and compare-and-set, by revision. */
export type LeaseStore = Pick<KV, "create" | "update" | "get" | "delete">;

export interface LeaseOptions {
  store: LeaseStore;
  /** This replica's name (stable across its restarts: a restarted replica takes its own lease back at once). */
  holder: string;
  /** The bucket's max age: a lease not renewed for this long is gone, and another replica may take it. */
  ttlMs: number;
  log: Logger;
  timers?: Timers;
  /** Called when this replica took the lease: start talking to Telegram. If it throws, the lease is handed back (see start and onFailure). */
  onAcquired: () => Promise<void>;
  /** A later take-over whose start failed (the first one's failure is start()'s). */
  onFailure: (err: unknown) => void;
  /** Called when it lost it (could not renew in time): stop at once. */
  onLost: () => Promise<void>;
}

/**
 * One bot per household: of the bot replicas (hub replicas, or a device's bot restarted while
 * its old self was still up), only the lease holder polls Telegram and sends alerts. The lease
 * is a key in a KV bucket whose entries expire after `ttlMs` (the NATS server's clock, so
 * the replicas' clocks do not matter): the holder renews it every third of that by
 * compare-and-set; another replica tries to create it every third too and wins only once it
 * has expired. A holder that cannot renew (its bus is gone, or another holds it) stops before
 * its lease can have expired at the others.
 */
export class BotLease {
  private revision: number | undefined;
  private timer: unknown;
  private stopped = false;
  private transition: Promise<void> = Promise.resolve();
  private renewedAt = 0;

  constructor(private readonly opts: LeaseOptions) {}

  get held(): boolean {
    return this.revision !== undefined;
  }

  private get timers(): Timers {
    return this.opts.timers ?? realTimers;
  }

  /** Tries at once (throwing what onAcquired threw), then keeps trying (or renewing) every third of the TTL. */
  async start(): Promise<void> {
    await this.tick(true);
  }

  /** Stops trying; a held lease is stopped with, then handed back, so another replica takes over at its next try. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    await this.transition;
    const revision = this.revision;
    if (revision !== undefined) {
      this.revision = undefined;
      await this.opts.onLost();
      await this.opts.store.delete(KEY, { previousSeq: revision }).catch((err: unknown) => this.opts.log.warn({ err }, "could not hand the bot lease back; it expires by itself"));
    }
  }

  private schedule(): void {
    if (!this.stopped) this.timer = this.timers.setTimeout(() => void this.tick(false), Math.max(200, Math.floor(this.opts.ttlMs / 3)));
  }

  private async tick(first: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.revision === undefined) await this.tryAcquire();
      else await this.renew();
    } catch (err) {
      if (first) throw err;
      this.opts.onFailure(err);
    } finally {
      this.schedule();
    }
  }

  private async tryAcquire(): Promise<void> {
    const { store, holder, log } = this.opts;
    let revision: number | undefined;
    try {
      revision = await store.create(KEY, holder);
    } catch {
      // Held (or the bus is down). Our own name there means our earlier self held it: take it back.
      const entry = await store.get(KEY).catch(() => null);
      if (entry === null || entry.operation !== "PUT" || entry.string() !== holder) return;
      revision = await store.update(KEY, holder, entry.revision).catch(() => undefined);
      if (revision === undefined) return;
    }
    this.revision = revision;
    this.renewedAt = this.timers.now();
    log.info({ holder }, "bot lease taken: this replica talks to Telegram");
    const started = this.opts.onAcquired();
    this.transition = started.catch(() => undefined);
    try {
      await started;
    } catch (err) {
      // Not started: stop what did start, and hand the lease back for a replica that can.
      this.revision = undefined;
      await this.opts.onLost().catch(() => undefined);
      await store.delete(KEY, { previousSeq: revision }).catch(() => undefined);
      throw err;
    }
  }

  private async renew(): Promise<void> {
    const { store, holder, log } = this.opts;
    if (this.revision === undefined) return;
    try {
      this.revision = await store.update(KEY, holder, this.revision);
      this.renewedAt = this.timers.now();
      return;
    } catch (err) {
      // Another replica holds it now (it expired): stop at once. Otherwise (the bus is away) keep
      // trying, but give up before the others may take it (after ttlMs from the last renewal).
      const taken = err instanceof Error && /wrong last sequence/i.test(err.message);
      if (!taken && this.timers.now() - this.renewedAt < this.opts.ttlMs * 0.66) {
        log.warn({ err }, "bot lease not renewed; retrying");
        return;
      }
      log.warn({ err }, "bot lease lost: this replica stops talking to Telegram");
    }
    this.revision = undefined;
    this.transition = this.opts.onLost().catch((err: unknown) => log.error({ err }, "bot did not stop cleanly after losing the lease"));
    await this.transition;
  }
}

/** Opens the lease bucket (entries expire after `ttlMs`). */
export function openLeaseStore(nc: NatsConnection, ttlMs: number): Promise<KV> {
  return new Kvm(nc).create(BOT_LEASE_BUCKET, { history: 1, ttl: ttlMs });
}
