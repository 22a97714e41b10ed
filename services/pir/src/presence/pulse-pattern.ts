/**
 * An activation pattern: `pulses` rises within `windowMs` (first to last, inclusive) count as
 * one activation. Keeps only the last `pulses` rise times, so a chattering input costs no memory.
 */
export class PulsePattern {
  private readonly times: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly pulses: number,
    readonly windowMs: number,
  ) {
    if (!Number.isInteger(pulses) || pulses < 1) throw new Error(`activation pulses must be a whole number ≥ 1, not ${pulses}`);
    if (!(windowMs >= 0)) throw new Error(`activation window must be ≥ 0 ms, not ${windowMs}`);
    this.times = new Float64Array(pulses);
  }

  /** Records a rise at `mono`; true when it completes the pattern. */
  rise(mono: number): boolean {
    this.times[this.next] = mono;
    this.next = (this.next + 1) % this.pulses;
    this.count = Math.min(this.count + 1, this.pulses);
    // After the write, `next` points at the oldest of the last `pulses` rises.
    return this.count === this.pulses && mono - (this.times[this.next] as number) <= this.windowMs;
  }

  /** Forgets every rise (arming starts afresh). */
  reset(): void {
    this.count = 0;
    this.next = 0;
  }
}
