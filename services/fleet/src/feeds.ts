import type { Logger } from "@picket/runtime";

/** How often the kept list is read again from the stream (another hub replica may have changed it). */
export const FEED_REFRESH_MS = 60_000;
/** After a failed attempt, the next one. */
export const FEED_RETRY_MS = 5_000;

export type Feed = (devices: string[]) => Promise<{ fed: Set<string>; added: string[] }>;

/**
 * Keeps the hub's events stream fed from every device the detector knows (event-feeds.ts in the
 * runtime does the feeding): a device heard for the first time gets its feed at the next check,
 * one attempt at a time; a failure is tried again after FEED_RETRY_MS, and the list is read
 * again every FEED_REFRESH_MS. Clock-free: the caller passes `now`.
 */
export class FeedKeeper {
  private fed = new Set<string>();
  private busy = false;
  private refreshAt = 0;
  private retryAt = 0;

  constructor(
    private readonly feed: Feed,
    private readonly log: Logger,
  ) {}

  /** Starts an attempt when a device lacks its feed or a refresh is due; resolves when it is done (tests await it). */
  tick(devices: Iterable<string>, now: number): Promise<void> | undefined {
    if (this.busy || now < this.retryAt) return undefined;
    const list = [...devices];
    if (now < this.refreshAt && list.every((d) => this.fed.has(d))) return undefined;
    this.busy = true;
    return this.feed(list)
      .then(({ fed, added }) => {
        this.fed = fed;
        this.refreshAt = now + FEED_REFRESH_MS;
        if (added.length > 0) log(this.log, added);
      })
      .catch((err: unknown) => {
        this.retryAt = now + FEED_RETRY_MS;
        this.log.warn({ err }, `could not make the hub's events take every device's (again in ${FEED_RETRY_MS / 1000} s)`);
      })
      .finally(() => {
        this.busy = false;
      });
  }

  /** The devices whose events the hub takes, as last read. */
  devices(): ReadonlySet<string> {
    return this.fed;
  }
}

function log(logger: Logger, added: string[]): void {
  logger.info({ devices: added }, `the hub now takes the events of ${added.join(", ")} from the device's own store: what it records while its link is down arrives when the link is back`);
}
