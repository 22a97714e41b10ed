/** Capped exponential backoff with full jitter. Pure: the random source is injected. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly opts: { initialMs: number; maxMs: number; factor?: number; jitter?: number },
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next try, then counts the try. */
  next(): number {
    const factor = this.opts.factor ?? 2;
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * factor ** this.attempt);
    this.attempt++;
    const jitter = this.opts.jitter ?? 0.5;
    return Math.round(base * (1 - jitter + jitter * this.random()));
  }

  /** Call after a success that lasted long enough to count as healthy. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
