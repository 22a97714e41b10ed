import type { QualityPresets } from "@picket/contracts";

/**
 * The `auto` profile: which of a camera's profiles a viewer gets. A phone starts on the
 * camera's `phone` preset (else the lowest), anything else on `desktop` (else the best). A
 * viewer that keeps falling behind (skips to keyframes) steps down one profile; one that
 * keeps up for a while at a lower profile steps up again. Pure: times are passed in.
 */
export interface AutoProfileOptions {
  /** Best first, e.g. `["high", "low"]`. */
  profiles: readonly string[];
  /** This many skips within `windowMs` step down. */
  skipsToStepDown?: number;
  windowMs?: number;
  /** No skip for this long at a lower profile steps up. */
  stepUpAfterMs?: number;
}

const MOBILE = /Mobi|Android|iPhone|iPad|iPod/i;

const isPhone = (userAgent: string | undefined) => userAgent !== undefined && MOBILE.test(userAgent);

/** The profile `auto` starts a viewer on, from its browser's User-Agent: phones the last, others the first. */
export function initialProfile(profiles: readonly string[], userAgent: string | undefined): string {
  const best = profiles[0] as string;
  return isPhone(userAgent) ? (profiles[profiles.length - 1] as string) : best;
}

/** The profiles `auto` moves between for one viewer, best first, and the one it starts on. */
export interface AutoLadder {
  profiles: string[];
  start: string;
}

/**
 * The ladder of a camera: its quality presets in order when it has them (phones start on
 * `phone`, others on `desktop`), else the configured profiles (PICKET_STREAM_AUTO_PROFILES:
 * phones the last, others the first).
 */
export function autoLadder(presets: QualityPresets | undefined, configured: readonly string[], userAgent: string | undefined): AutoLadder {
  if (presets === undefined) return { profiles: [...configured], start: initialProfile(configured, userAgent) };
  return { profiles: presets.presets.map((p) => p.name), start: isPhone(userAgent) ? presets.phone : presets.desktop };
}

export class AutoProfile {
  private index: number;
  private skips: number[] = [];
  private since: number;

  /** Starts on `start`, or on the best profile when `start` is not one of them. */
  constructor(
    private readonly opts: AutoProfileOptions,
    start: string,
    now: number,
  ) {
    if (opts.profiles.length === 0) throw new RangeError("auto needs at least one profile");
    this.index = Math.max(0, opts.profiles.indexOf(start));
    this.since = now;
  }

  get profile(): string {
    return this.opts.profiles[this.index] as string;
  }

  /** The viewer skipped to a keyframe; returns the profile to move to, if it should move. */
  skipped(now: number): string | undefined {
    const windowMs = this.opts.windowMs ?? 30_000;
    this.skips = [...this.skips.filter((t) => now - t < windowMs), now];
    this.since = now;
    if (this.skips.length < (this.opts.skipsToStepDown ?? 2) || this.index >= this.opts.profiles.length - 1) return undefined;
    this.index++;
    this.skips = [];
    return this.profile;
  }

  /** Called now and then; returns the profile to move up to, if the viewer kept up long enough. */
  tick(now: number): string | undefined {
    if (this.index === 0 || now - this.since < (this.opts.stepUpAfterMs ?? 60_000)) return undefined;
    this.index--;
    this.since = now;
    this.skips = [];
    return this.profile;
  }
}
