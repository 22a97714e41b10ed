import { realTimers, type Timers } from "@picket/runtime";

export { realTimers, type Timers };

/**
 * Leading-edge debounce with a lockout: a change after a quiet period is reported at once
 * (an alarm must not wait for the debounce time), then further changes within `ms` are held;
 * when the lockout ends the pin's settled level is reported if it differs. A chattering pin
 * therefore produces at most one report per `ms` and one timer, whatever its edge rate.
 */
export class Debouncer {
  private stable: 0 | 1;
  private latest: 0 | 1;
  private lockedUntil = Number.NEGATIVE_INFINITY;
  private timer: unknown;

  constructor(
    initial: 0 | 1,
    private readonly ms: number,
    private readonly emit: (level: 0 | 1, at: number) => void,
    private readonly timers: Timers = realTimers,
  ) {
    this.stable = initial;
    this.latest = initial;
  }

  /** A raw reading from the pin. */
  input(level: 0 | 1): void {
    this.latest = level;
    const now = this.timers.now();
    if (now < this.lockedUntil) {
      // Inside the lockout: the settle check at its end will look at `latest`.
      if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.settle(), this.lockedUntil - now);
      return;
    }
    if (level !== this.stable) this.change(level, now);
  }

  private change(level: 0 | 1, at: number): void {
    // A settle timer that fired late must not report again inside the lockout that starts here.
    this.dispose();
    this.stable = level;
    this.lockedUntil = at + this.ms;
    this.emit(level, at);
  }

  private settle(): void {
    this.timer = undefined;
    if (this.latest !== this.stable) this.change(this.latest, this.timers.now());
  }

  get level(): 0 | 1 {
    return this.stable;
  }

  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
