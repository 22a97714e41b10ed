/** Timers as the debouncer needs them, so tests can drive time by hand. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Reports a level only after it has held for `ms`. A chattering pin restarts one timer per
 * edge and emits nothing until it settles, so thousands of edges cost thousands of timer
 * resets and no events. The emitted timestamp is when the level first changed.
 */
export class Debouncer {
  private stable: 0 | 1;
  private pending: { level: 0 | 1; since: number } | undefined;
  private timer: unknown;

  constructor(
    initial: 0 | 1,
    private readonly ms: number,
    private readonly emit: (level: 0 | 1, at: number) => void,
    private readonly timers: Timers = realTimers,
  ) {
    this.stable = initial;
  }

  /** A raw reading from the pin. */
  input(level: 0 | 1): void {
    if (this.ms === 0) {
      if (level !== this.stable) {
        this.stable = level;
        this.emit(level, this.timers.now());
      }
      return;
    }
    if (this.pending === undefined || this.pending.level !== level) this.pending = { level, since: this.timers.now() };
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.settle(), this.ms);
  }

  private settle(): void {
    this.timer = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (p === undefined || p.level === this.stable) return;
    this.stable = p.level;
    this.emit(p.level, p.since);
  }

  get level(): 0 | 1 {
    return this.stable;
  }

  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
