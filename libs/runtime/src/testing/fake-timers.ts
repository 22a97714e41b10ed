import type { Timers } from "../timers.js";

interface Entry {
  at: number;
  fn: () => void;
}

/**
 * Hand-driven {@link Timers} for unit tests: time moves only through {@link advance} (which
 * fires due callbacks) or by setting {@link t} directly (which fires nothing, like a timer
 * that will run late). Test-only: import it from `@picket/runtime/testing`.
 */
export class FakeTimers implements Timers {
  /** The current monotonic time, ms. Assign to it to move time without firing anything. */
  t: number;
  private seq = 0;
  private readonly queue = new Map<number, Entry>();

  /** @param start the initial value of `now()`, ms. */
  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.queue.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue.delete(handle as number);
  }

  /** How many callbacks are scheduled and not yet run or cleared. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Moves time forward by `ms`, running every callback due by then in order of due time
   * (ties in the order they were scheduled), including ones scheduled by those callbacks.
   * Each runs with `now()` at its due time, or at the current time if it is overdue.
   */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let next: [number, Entry] | undefined;
      for (const e of this.queue) if (e[1].at <= until && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.queue.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = until;
  }
}
