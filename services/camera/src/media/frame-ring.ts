import type { EncodedFrame } from "../capture.js";
import type { Still } from "../event-media.js";

export interface FrameRingOptions {
  /** Video kept, by PTS, ms: the clip's pre-roll plus one GOP plus a margin (see `frameRingMs`). */
  maxDurationMs: number;
  /** Hard cap on the bytes held; the oldest frames go first (default 32 MB). */
  maxBytes?: number;
  /** A pause in capture longer than this (camera stopped or restarted) empties the ring, ms (default 3000). */
  maxGapMs?: number;
}

/** The ring's duration for a pre-roll: one GOP more so a keyframe at or before the pre-roll start is still there. */
export const frameRingMs = (preRollMs: number, gopMs: number): number => preRollMs + gopMs + 1_000;

/**
 * The newest encoded frames, for a clip's pre-roll. Holds one continuous run of capture: a
 * gap or a change of codec or size starts it afresh, so a clip never splices two runs.
 */
export class FrameRing {
  private frames: EncodedFrame[] = [];
  private heldBytes = 0;
  private readonly maxDurationUs: number;
  private readonly maxBytes: number;
  private readonly maxGapUs: number;

  constructor(opts: FrameRingOptions) {
    this.maxDurationUs = opts.maxDurationMs * 1000;
    this.maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
    this.maxGapUs = (opts.maxGapMs ?? 3_000) * 1000;
  }

  get length(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  push(frame: EncodedFrame): void {
    const newest = this.frames[this.frames.length - 1];
    if (newest !== undefined && !continues(newest, frame, this.maxGapUs)) this.clear();
    this.frames.push(frame);
    this.heldBytes += frame.data.length;
    // PTS, not capture time: a wall-clock jump must not empty or overfill the ring. Past the
    // duration, the oldest frames go only while a later keyframe is itself old enough, so a
    // camera with long keyframe intervals (an IP camera's own GOP) keeps its full pre-roll.
    while (this.frames.length > 1) {
      const oldest = this.frames[0] as EncodedFrame;
      const overBytes = this.heldBytes > this.maxBytes;
      if (!overBytes && (frame.ptsUs - oldest.ptsUs <= this.maxDurationUs || !this.laterKeyOlderThan(frame.ptsUs - this.maxDurationUs))) break;
      this.frames.shift();
      this.heldBytes -= oldest.data.length;
    }
  }

  /** Whether a keyframe after the oldest frame has PTS at or before `ptsUs`. */
  private laterKeyOlderThan(ptsUs: number): boolean {
    for (let i = 1; i < this.frames.length; i++) {
      const f = this.frames[i] as EncodedFrame;
      if (f.ptsUs > ptsUs) return false;
      if (f.key) return true;
    }
    return false;
  }

  /**
   * The frames from the last keyframe captured at or before `capturedUs` (wall clock, µs) to
   * the newest, so a decoder can start at the first. When the ring starts later, from its
   * first keyframe. Empty when the ring holds no keyframe, or only frames from a run that
   * ended before that moment (the camera was off then). The array is new; frames are shared.
   */
  since(capturedUs: number): EncodedFrame[] {
    const newest = this.frames[this.frames.length - 1];
    if (newest === undefined || newest.capturedUs < capturedUs - this.maxGapUs) return [];
    let start = -1;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i] as EncodedFrame;
      if (!f.key) continue;
      start = i;
      if (f.capturedUs <= capturedUs) break;
    }
    return start < 0 ? [] : this.frames.slice(start);
  }

  clear(): void {
    this.frames = [];
    this.heldBytes = 0;
  }
}

/** Whether `next` continues the run that `prev` belongs to. */
export function continues(prev: EncodedFrame, next: EncodedFrame, maxGapUs: number): boolean {
  const gap = next.capturedUs - prev.capturedUs;
  return gap >= 0 && gap <= maxGapUs && next.codec === prev.codec && next.width === prev.width && next.height === prev.height;
}

export interface StillRingOptions {
  /** Stills older than this (behind the newest) are dropped, ms (default 10 s). */
  maxAgeMs?: number;
  /** At most this many stills (default 64). */
  maxCount?: number;
  /** A still at most this long before the moment wins over a nearer one after it, ms (default 1000). */
  preferBeforeMs?: number;
  /** No still this near the moment: none (the camera was off), ms (default 2000). */
  maxOffsetMs?: number;
}

/** The camera's recent JPEG stills, to pick the picture of a trigger moment. */
export class StillRing {
  private stills: Still[] = [];
  private readonly maxAgeUs: number;
  private readonly maxCount: number;
  private readonly preferBeforeUs: number;
  private readonly maxOffsetUs: number;

  constructor(opts: StillRingOptions = {}) {
    this.maxAgeUs = (opts.maxAgeMs ?? 10_000) * 1000;
    this.maxCount = opts.maxCount ?? 64;
    this.preferBeforeUs = (opts.preferBeforeMs ?? 1_000) * 1000;
    this.maxOffsetUs = (opts.maxOffsetMs ?? 2_000) * 1000;
  }

  get length(): number {
    return this.stills.length;
  }

  get newest(): Still | undefined {
    return this.stills[this.stills.length - 1];
  }

  push(jpeg: Buffer, capturedUs: number): void {
    const newest = this.newest;
    // A clock that went back: the old stills' times mean nothing against the new ones.
    if (newest !== undefined && capturedUs < newest.capturedUs) this.stills = [];
    this.stills.push({ jpeg, capturedUs });
    while (this.stills.length > this.maxCount || capturedUs - (this.stills[0] as Still).capturedUs > this.maxAgeUs) this.stills.shift();
  }

  /**
   * The still of the moment `wallMs` (ms since epoch): the last one captured at or shortly
   * before it, else the nearest one either side; undefined when none is within `maxOffsetMs`.
   */
  at(wallMs: number): Still | undefined {
    const t = wallMs * 1000;
    let before: Still | undefined;
    let after: Still | undefined;
    for (const s of this.stills) {
      if (s.capturedUs <= t) before = s;
      else {
        after = s;
        break;
      }
    }
    if (before !== undefined && t - before.capturedUs <= this.preferBeforeUs) return before;
    const dBefore = before === undefined ? Infinity : t - before.capturedUs;
    const dAfter = after === undefined ? Infinity : after.capturedUs - t;
    const [best, d] = dBefore <= dAfter ? [before, dBefore] : [after, dAfter];
    return d <= this.maxOffsetUs ? best : undefined;
  }

  clear(): void {
    this.stills = [];
  }
}
