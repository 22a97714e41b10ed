import { Backoff, realTimers, type Logger, type Timers } from "@picket/runtime";
import { SendPacer } from "./send-pacer.js";
import { toTelegramCallError, type TelegramCallError } from "./telegram-errors.js";

/** One send (or a few calls that belong together) to one chat. */
export interface OutboxJob<T> {
  /** What it is, for logs: `alert 01J…`, `clip 01J…`, `/status`. */
  label: string;
  /** 0 goes before 1: an alert is not kept waiting behind a clip. FIFO within a priority. */
  priority: 0 | 1;
  /** Messages it sends (an album counts each photo), for the pacing. */
  messages?: number;
  /** Tries before it fails for good; alerts try until they get through. */
  maxTries?: number;
  /** Checked before each try: false drops the job (the chat was unpaired). */
  wanted?: () => boolean;
  run(signal: AbortSignal): Promise<T>;
}

interface Queued {
  job: OutboxJob<unknown>;
  seq: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** The job was dropped before it got through: the chat was unpaired, or the bot is stopping. */
export class JobDropped extends Error {
  override readonly name = "JobDropped";
  constructor(readonly reason: "stopping" | "unpaired") {
    super(reason === "stopping" ? "the bot is stopping" : "the chat is no longer paired");
  }
}

/** Longest wait between tries of a failing send (network down, 5xx): Telegram is tried at least this often. */
const MAX_BACKOFF_MS = 15_000;

export interface ChatOutboxOptions {
  log: Logger;
  timers?: Timers;
  pacer?: SendPacer;
  backoff?: () => Backoff;
}

/**
 * A queue per chat, worked one job at a time in order, within Telegram's limits (the
 * {@link SendPacer}). A job that fails for a passing reason (network, timeout, 5xx, 429) is
 * tried again, after Telegram's `retry_after` or a growing backoff, before anything after
 * it, so each chat sees its alerts in event order; one chat's outage holds up only that
 * chat. A job refused for good (400, 403, or out of tries) rejects with the
 * {@link TelegramCallError}; the caller decides what then.
 */
export class ChatOutbox {
  private readonly queues = new Map<number, Queued[]>();
  private readonly working = new Set<number>();
  private readonly stopping = new AbortController();
  /** Chats waiting out a backoff after a network error or 5xx: a send that works anywhere wakes them. */
  private readonly backingOff = new Set<() => void>();
  private readonly timers: Timers;
  private readonly pacer: SendPacer;
  private seq = 0;

  constructor(private readonly opts: ChatOutboxOptions) {
    this.timers = opts.timers ?? realTimers;
    this.pacer = opts.pacer ?? new SendPacer();
  }

  /** Queues `job` for `chat`; resolves with its result once it got through. */
  enqueue<T>(chat: number, job: OutboxJob<T>): Promise<T> {
    if (this.stopping.signal.aborted) return Promise.reject(new JobDropped("stopping"));
    return new Promise<T>((resolve, reject) => {
      const queue = this.queues.get(chat) ?? [];
      queue.push({ job, seq: this.seq++, resolve: resolve as (v: unknown) => void, reject });
      this.queues.set(chat, queue);
      if (!this.working.has(chat)) void this.work(chat);
    });
  }

  /** Jobs waiting or running, for one chat or all. */
  pending(chat?: number): number {
    if (chat !== undefined) return this.queues.get(chat)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Drops every queued job (rejecting with JobDropped) and cancels the sends in progress. */
  stop(): void {
    this.stopping.abort(new JobDropped("stopping"));
    for (const queue of this.queues.values()) for (const q of queue.splice(0)) q.reject(new JobDropped("stopping"));
  }

  private async work(chat: number): Promise<void> {
    this.working.add(chat);
    const log = this.opts.log;
    try {
      for (;;) {
        const queue = this.queues.get(chat);
        if (queue === undefined || queue.length === 0) break;
        // Highest priority first, then the oldest.
        const next = queue.reduce((a, b) => (b.job.priority < a.job.priority || (b.job.priority === a.job.priority && b.seq < a.seq) ? b : a));
        const { job } = next;
        const backoff = this.opts.backoff?.() ?? new Backoff({ initialMs: 1_000, maxMs: MAX_BACKOFF_MS });
        let outcome: { ok: true; value: unknown } | { ok: false; err: unknown };
        for (let tries = 1; ; tries++) {
          if (this.stopping.signal.aborted || job.wanted?.() === false) {
            outcome = { ok: false, err: new JobDropped(this.stopping.signal.aborted ? "stopping" : "unpaired") };
            break;
          }
          const at = this.pacer.reserve(chat, this.timers.now(), job.messages ?? 1);
          if (!(await this.sleep(at - this.timers.now()))) continue;
          try {
            outcome = { ok: true, value: await job.run(this.stopping.signal) };
            // Telegram is reachable again: chats backing off after a network error try now.
            for (const wake of [...this.backingOff]) wake();
            break;
          } catch (e) {
            if (this.stopping.signal.aborted) continue;
            const err: TelegramCallError = toTelegramCallError(job.label, e);
            if (err.kind !== "retry" || tries >= (job.maxTries ?? Infinity)) {
              outcome = { ok: false, err };
              break;
            }
            const waitMs = Math.max(err.retryAfterMs ?? 0, backoff.next());
            if (err.retryAfterMs !== undefined) this.pacer.pause(chat, this.timers.now() + err.retryAfterMs);
            log.warn({ err, chat, job: job.label, tries, retryInMs: waitMs }, "send failed; trying again");
            await this.sleep(waitMs, err.retryAfterMs === undefined);
          }
        }
        const i = queue.indexOf(next);
        if (i >= 0) queue.splice(i, 1);
        if (outcome.ok) next.resolve(outcome.value);
        else next.reject(outcome.err);
      }
    } finally {
      this.working.delete(chat);
      if (this.queues.get(chat)?.length === 0) this.queues.delete(chat);
    }
  }

  /** Waits `ms`; false when stopping cut it short. A `wakeable` wait ends early when a send works elsewhere. */
  private sleep(ms: number, wakeable = false): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!this.stopping.signal.aborted);
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const done = (result: boolean) => {
        this.timers.clearTimeout(handle);
        signal.removeEventListener("abort", onAbort);
        this.backingOff.delete(wake);
        resolve(result);
      };
      const onAbort = () => done(false);
      const wake = () => done(true);
      const handle = this.timers.setTimeout(() => done(true), ms);
      signal.addEventListener("abort", onAbort, { once: true });
      if (wakeable) this.backingOff.add(wake);
    });
  }
}
