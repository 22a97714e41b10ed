import { realTimers, type Timers } from "./debounce.js";

/**
 * The HC-SR501 PIR module, as its datasheet and the bench describe it:
 * - the output goes high on detection and stays high for the hold time Tx (pot, ~3 s … 300 s);
 * - jumper H, "repeat": detection while high extends the high until Tx after the last detection;
 *   jumper L, "single": the output falls Tx after it rose, even while detection goes on;
 * - after every high period the output is blocked low for Ti (~2.5–3 s) and ignores detection;
 * - after power-on it settles for up to a minute, its output toggling at random meanwhile.
 */
export interface Hcsr501Options {
  holdMs: number;
  trigger: "repeat" | "single";
  blockMs: number;
  warmupMs: number;
}

/** The part as shipped: pots at their minimum, jumper on H. */
export const HCSR501_DEFAULTS: Hcsr501Options = { holdMs: 3_000, trigger: "repeat", blockMs: 3_000, warmupMs: 60_000 };

export interface Hcsr501ModelOptions extends Hcsr501Options {
  /** Toggle the output at random during warm-up, as the part does. Default true. */
  warmupNoise?: boolean;
  /** Source of randomness for the warm-up toggles, [0, 1). Default Math.random. */
  random?: () => number;
}

/** Warm-up toggles come every 0.5–5 s. */
const NOISE_MIN_MS = 500;
const NOISE_SPAN_MS = 4_500;

/**
 * Emulates the sensor's output pin from a "heat seen" stimulus: used by the `sim` driver so
 * demos and tests behave like the real part. `stimulus(true)` means the sensor detects
 * movement from now on, `stimulus(false)` that it no longer does. `onOutput` is called on
 * each change of the pin; the pin starts low.
 */
export class Hcsr501Model {
  private phase: "warming-up" | "idle" | "high" | "blocked";
  private out: 0 | 1 = 0;
  private seen = false;
  private timer: unknown;
  private noiseTimer: unknown;

  constructor(
    private readonly opts: Hcsr501ModelOptions,
    private readonly onOutput: (level: 0 | 1) => void,
    private readonly timers: Timers = realTimers,
  ) {
    if (!(opts.holdMs > 0)) throw new Error(`HC-SR501 hold time must be > 0 ms, not ${opts.holdMs}`);
    if (opts.warmupMs > 0) {
      this.phase = "warming-up";
      this.timer = timers.setTimeout(() => this.settle(), opts.warmupMs);
      if (opts.warmupNoise ?? true) this.scheduleNoise();
    } else {
      this.phase = "idle";
    }
  }

  get output(): 0 | 1 {
    return this.out;
  }

  /** Where the part is in its cycle; for demos and tests. */
  get state(): "warming-up" | "idle" | "high" | "blocked" {
    return this.phase;
  }

  stimulus(seen: boolean): void {
    if (seen === this.seen) return;
    this.seen = seen;
    if (this.phase === "idle" && seen) this.rise();
    else if (this.phase === "high" && this.opts.trigger === "repeat") {
      // Repeat: held high while detecting; the hold time runs from the last detection.
      this.clear();
      if (!seen) this.timer = this.timers.setTimeout(() => this.fall(), this.opts.holdMs);
    }
  }

  dispose(): void {
    this.clear();
    if (this.noiseTimer !== undefined) this.timers.clearTimeout(this.noiseTimer);
    this.noiseTimer = undefined;
  }

  private rise(): void {
    this.phase = "high";
    this.set(1);
    if (this.opts.trigger === "single" || !this.seen) this.timer = this.timers.setTimeout(() => this.fall(), this.opts.holdMs);
  }

  private fall(): void {
    this.timer = undefined;
    this.set(0);
    if (this.opts.blockMs > 0) {
      this.phase = "blocked";
      this.timer = this.timers.setTimeout(() => this.unblock(), this.opts.blockMs);
    } else {
      this.unblock();
    }
  }

  /** Block time over: detection still going on triggers again (a single-trigger part thus pulses). */
  private unblock(): void {
    this.timer = undefined;
    this.phase = "idle";
    if (this.seen) this.rise();
  }

  private settle(): void {
    this.timer = undefined;
    this.dispose();
    this.phase = "idle";
    this.set(0);
    if (this.seen) this.rise();
  }

  private scheduleNoise(): void {
    const random = this.opts.random ?? Math.random;
    this.noiseTimer = this.timers.setTimeout(() => {
      this.set(this.out === 1 ? 0 : 1);
      this.scheduleNoise();
    }, NOISE_MIN_MS + Math.floor(random() * NOISE_SPAN_MS));
  }

  private set(level: 0 | 1): void {
    if (level === this.out) return;
    this.out = level;
    this.onOutput(level);
  }

  private clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface PirInterpreterOptions {
  /** Levels are ignored until this long after `startedAt` (the sensor's power-on). */
  warmupMs: number;
  /** A rise this soon after a fall is a glitch: the part cannot rise inside its block time. */
  blockMs: number;
  /**
   * More than `maxEdges` raw edges within one `perMs` window declare the pin chattering; it
   * is trusted again after `calmMs` (default 5000) without a raw edge.
   */
  chatter: { maxEdges: number; perMs: number; calmMs?: number };
}

/**
 * Defaults for a real HC-SR501. The block is a little shorter than the part's ~2.5–3 s, so
 * its own re-trigger is never mistaken for a glitch.
 */
export const PIR_INTERPRETER_DEFAULTS: PirInterpreterOptions & { chatter: { calmMs: number } } = {
  warmupMs: 60_000,
  blockMs: 2_000,
  chatter: { maxEdges: 50, perMs: 1_000, calmMs: 5_000 },
};

export interface PirInterpreterStatus {
  state: "warming-up" | "ready" | "chattering";
  warmupLeftMs: number;
  /** Debounced levels ignored because the sensor was still warming up. */
  warmupIgnored: number;
  /** Rises inside the block time after a fall. */
  glitches: number;
  /** Times the pin was declared chattering. */
  chatterEvents: number;
}

/**
 * Reads a real sensor's debounced output and passes on the levels the part can really have
 * produced. The reported level starts low.
 * - Warm-up: levels before `startedAt + warmupMs` are ignored (counted, and `status` says
 *   so). Nothing is reported when warm-up ends: a level left high by warm-up noise would be a
 *   false alarm; a real detection shows as the next rise.
 * - Glitch: a rise within `blockMs` of the last reported fall is not reported (counted). If
 *   the pin is still high when the block time is over, the rise is reported then: the part's
 *   block time may be shorter than configured, and a real presence must not be lost.
 * - Chatter: `rawEdge` counts every interrupt in fixed windows, O(1) and without allocating.
 *   Over the limit, nothing is reported until the pin has been calm for `calmMs`; then its
 *   settled level is reported once, if it differs from the last one reported.
 */
export class PirInterpreter {
  private emitted: 0 | 1 = 0;
  private latest: 0 | 1 = 0;
  private lastFallMono = Number.NEGATIVE_INFINITY;
  private warmupIgnored = 0;
  private glitches = 0;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowEdges = 0;
  private chattering = false;
  private chatterEvents = 0;
  private lastRawMono = Number.NEGATIVE_INFINITY;
  private calmTimer: unknown;
  private blockTimer: unknown;
  private readonly calmMs: number;
  private readonly readyAt: number;

  constructor(
    private readonly opts: PirInterpreterOptions,
    private readonly emit: (level: 0 | 1, mono: number) => void,
    private readonly timers: Timers = realTimers,
    startedAt: number = timers.now(),
  ) {
    this.calmMs = opts.chatter.calmMs ?? PIR_INTERPRETER_DEFAULTS.chatter.calmMs;
    this.readyAt = startedAt + opts.warmupMs;
  }

  /** A debounced level at monotonic `mono`. */
  input(level: 0 | 1, mono: number): void {
    this.latest = level;
    if (mono < this.readyAt) {
      this.warmupIgnored++;
      return;
    }
    if (this.chattering || level === this.emitted) return;
    if (level === 1 && mono - this.lastFallMono < this.opts.blockMs) {
      this.glitches++;
      this.blockTimer ??= this.timers.setTimeout(() => this.blockOver(), this.lastFallMono + this.opts.blockMs - mono);
      return;
    }
    this.report(level, mono);
  }

  /** Every raw interrupt from the pin, before debouncing. */
  rawEdge(mono: number): void {
    if (mono - this.windowStart >= this.opts.chatter.perMs) {
      this.windowStart = mono;
      this.windowEdges = 0;
    }
    this.windowEdges++;
    this.lastRawMono = mono;
    if (!this.chattering && this.windowEdges > this.opts.chatter.maxEdges) {
      this.chattering = true;
      this.chatterEvents++;
      this.calmTimer = this.timers.setTimeout(() => this.checkCalm(), this.calmMs);
    }
  }

  get status(): PirInterpreterStatus {
    const warmupLeftMs = Math.max(0, this.readyAt - this.timers.now());
    return {
      state: warmupLeftMs > 0 ? "warming-up" : this.chattering ? "chattering" : "ready",
      warmupLeftMs,
      warmupIgnored: this.warmupIgnored,
      glitches: this.glitches,
      chatterEvents: this.chatterEvents,
    };
  }

  dispose(): void {
    if (this.calmTimer !== undefined) this.timers.clearTimeout(this.calmTimer);
    if (this.blockTimer !== undefined) this.timers.clearTimeout(this.blockTimer);
    this.calmTimer = undefined;
    this.blockTimer = undefined;
  }

  private report(level: 0 | 1, mono: number): void {
    this.emitted = level;
    if (level === 0) this.lastFallMono = mono;
    this.emit(level, mono);
  }

  private blockOver(): void {
    this.blockTimer = undefined;
    const now = this.timers.now();
    if (!this.chattering && now >= this.readyAt && this.latest === 1 && this.emitted === 0) this.report(1, now);
  }

  private checkCalm(): void {
    const now = this.timers.now();
    const quietMs = now - this.lastRawMono;
    if (quietMs < this.calmMs) {
      this.calmTimer = this.timers.setTimeout(() => this.checkCalm(), this.calmMs - quietMs);
      return;
    }
    this.calmTimer = undefined;
    this.chattering = false;
    this.windowEdges = 0;
    if (now >= this.readyAt && this.latest !== this.emitted) this.report(this.latest, now);
  }
}
