import { Kvm, replicasFor, realTimers, type KV, type Logger, type NatsConnection, type Timers } from "@picket/runtime";

/** The bucket whose one key says which bot replica talks to Telegram. */
export const BOT_LEASE_BUCKET = "picket-bot-lease";
const KEY = "telegram";

/** The part of a KV bucket the lease uses: create-if-absent and compare-and-set, by revision. */
export type LeaseStore = Pick<KV, "create" | "update" | "get" | "delete">;

export interface LeaseOptions {
  store: LeaseStore;
  /** Makes the bucket again (a NATS server that came back with an empty store) and returns it. */
  reopen: () => Promise<LeaseStore>;
  /** This replica's name: unique among the replicas (two with one name would both believe they hold it). */
  holder: string;
  /** The bucket's max age: a lease not renewed for this long is gone, and another replica may take it. */
  ttlMs: number;
  log: Logger;
  timers?: Timers;
  /** Called when this replica took the lease: start talking to Telegram. If it throws, the lease is handed back (see start and onFailure). */
  onAcquired: () => Promise<void>;
  /** A later take-over whose start failed (the first one's failure is start()'s). */
  onFailure: (err: unknown) => void;
  /** Called when another replica took it: stop at once. */
  onLost: () => Promise<void>;
}

const missing = (err: unknown) => err instanceof Error && /stream not found|bucket not found|not found/i.test(err.message);

/**
 * One bot per household: of the bot replicas (hub replicas on several machines), only the
 * lease holder polls Telegram and sends alerts. The lease is a key in a KV bucket whose
 * entries expire after `ttlMs` (the NATS server's clock, so the replicas' clocks do not
 * matter): the holder renews it every third of that by compare-and-set; the others try to
 * create it every third too and win only once it has expired or was handed back.
 *
 * A holder that cannot reach the bus keeps the lease (and its bot, with its consumers' place
 * in the events stream) until it hears that another replica took it; a bucket lost with an
 * empty store is made again and taken again. Should two replicas ever poll at once (one cut
 * off from the bus, the other holding the lease), Telegram refuses the second poller (409),
 * which the bot treats as fatal: that replica exits and comes back as a standby.
 */
export class BotLease {
  private revision: number | undefined;
  private timer: unknown;
  private stopped = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaseOptions) {
    this.store = opts.store;
  }

  private store: LeaseStore;

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
      await this.store.delete(KEY, { previousSeq: revision }).catch((err: unknown) => this.opts.log.warn({ err }, "could not hand the bot lease back; it expires by itself"));
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

  /** Creates the key; a bucket lost with its server's store is made again first. */
  private async create(): Promise<number | undefined> {
    try {
      return await this.store.create(KEY, this.opts.holder);
    } catch (err) {
      if (!missing(err)) return undefined;
      this.store = await this.opts.reopen();
      return this.store.create(KEY, this.opts.holder).catch(() => undefined);
    }
  }

  private async tryAcquire(): Promise<void> {
    const { holder, log } = this.opts;
    const revision = await this.create().catch(() => undefined);
    if (revision === undefined) return;
    if (this.stopped) {
      await this.store.delete(KEY, { previousSeq: revision }).catch(() => undefined);
      return;
    }
    this.revision = revision;
    log.info({ holder }, "bot lease taken: this replica talks to Telegram");
    const started = this.opts.onAcquired();
    this.transition = started.catch(() => undefined);
    try {
      await started;
    } catch (err) {
      // Not started: stop what did start, and hand the lease back for a replica that can.
      this.revision = undefined;
      await this.opts.onLost().catch(() => undefined);
      await this.store.delete(KEY, { previousSeq: revision }).catch(() => undefined);
      throw err;
    }
  }

  private async renew(): Promise<void> {
    const { holder, log } = this.opts;
    if (this.revision === undefined) return;
    try {
      this.revision = await this.store.update(KEY, holder, this.revision);
      return;
    } catch (err) {
      // Who holds it now? Another replica: stop. Nobody (an empty store): take it again.
      // Unknown (the bus is away): keep it, and try again at the next tick.
      const entry = await this.store.get(KEY).catch((e: unknown) => (missing(e) ? null : undefined));
      if (entry === undefined) {
        log.warn({ err }, "bot lease not renewed (the bus is away?); kept until another replica is seen to hold it");
        return;
      }
      if (entry === null || entry.operation !== "PUT") {
        const again = await this.create().catch(() => undefined);
        if (again !== undefined) {
          this.revision = again;
          log.info("the bot lease was gone (an empty store?); taken again");
          return;
        }
      } else if (entry.string() === holder) {
        this.revision = entry.revision;
        return;
      }
      log.warn({ holder: entry?.string() }, "bot lease lost to another replica: this one stops talking to Telegram");
    }
    this.revision = undefined;
    this.transition = this.opts.onLost().catch((err: unknown) => log.error({ err }, "bot did not stop cleanly after losing the lease"));
    await this.transition;
  }
}

/** Opens the lease bucket (entries expire after `ttlMs`), making it if needed. */
export function openLeaseStore(nc: NatsConnection, ttlMs: number): Promise<KV> {
  return new Kvm(nc).create(BOT_LEASE_BUCKET, { history: 1, ttl: ttlMs, replicas: replicasFor(nc) });
}
