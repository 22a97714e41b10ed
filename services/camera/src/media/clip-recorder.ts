import { realTimers, type Logger, type Timers } from "@picket/runtime";
import type { EncodedFrame } from "../capture.js";
import type { Clip } from "../event-media.js";
import { continues, type FrameRing } from "./frame-ring.js";
import { frameTimes, remuxToMp4 } from "./mp4-remux.js";

/** Why a recording ended: its post-roll (or length) was reached, or it finished early with what it had. */
export type ClipEnd = "post-roll" | "stalled" | "gap" | "size" | "deadline" | "stopped";

export interface RecordedClip extends Clip {
  eventId: string;
  mp4: Buffer;
  ended: ClipEnd;
  frames: number;
}

/**
 * What a clip covers. Around a trigger (an event): from `preRollMs` before it, at the
 * keyframe at or before that, to `postRollMs` after it. The last `lastMs` (a clip on
 * request): `lastMs` of video from the first keyframe at or after `lastMs` before the moment,
 * so it ends at the moment or up to one keyframe interval later; when the ring holds no such
 * keyframe (the camera just started, or was off), from the first keyframe there is, recording
 * live frames until `lastMs` is covered.
 */
export type ClipSpan = { preRollMs: number; postRollMs: number } | { lastMs: number };

export interface ClipRecorderOptions {
  /** Holds the pre-roll; `push` feeds it. Size it with `frameRingMs(preRollMs, gopMs)`. */
  ring: FrameRing;
  /** The camera's frame rate; sets the last frame's duration when a clip has one frame. */
  fps: number;
  /** Video before the trigger, ms (default 5000); the clip starts at the keyframe at or before it. */
  preRollMs?: number;
  /** Video after the trigger, ms (default 10000). */
  postRollMs?: number;
  /** No frame for this long during a recording (the camera died): finish with what exists, ms (default 5000). */
  stallMs?: number;
  /** A capture gap longer than this ends a recording (camera restarted), ms (default 3000, as the ring's). */
  maxGapMs?: number;
  /** Recordings at once; one more is refused (default 4). Overlapping recordings share frames. */
  maxRecordings?: number;
  /** A recording holding this many bytes ends early (default 64 MB). */
  maxClipBytes?: number;
  /** Called with each clip made, besides resolving `record`. */
  onClip?: (clip: RecordedClip) => void;
  log?: Logger;
  /** Monotonic timers for the stall and deadline timeouts. */
  timers?: Timers;
  /** Wall clock, ms since epoch (trigger times are wall clock). */
  wallNowMs?: () => number;
  /** Frames → MP4; real ffmpeg by default. */
  remux?: (frames: EncodedFrame[], fps: number) => Promise<Buffer>;
}

interface Recording {
  eventId: string;
  triggerUs: number;
  /** Around a trigger: the last frame's capture time, µs. */
  toUs: number;
  /** The last `lastMs`: the clip's length from its first frame by PTS, µs (instead of `toUs`). */
  lengthUs?: number;
  frames: EncodedFrame[];
  bytes: number;
  deadline: unknown;
  resolve: (clip: RecordedClip | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Records clips: an event's, the pre-roll from the frame ring, then live frames until the
 * post-roll; or the last seconds, on request (see ClipSpan). Remuxed to MP4 without
 * re-encoding. Feed it every frame with `push`.
 *
 * A clip starts at a keyframe, so it can begin up to one GOP before the pre-roll. When the
 * camera was off at the trigger (on demand), the clip starts at its first keyframe after it.
 * When, past the trigger, the camera stalls or restarts, or the clip grows past
 * `maxClipBytes`, the recording ends early with what it has. A recording waits for video
 * until the post-roll plus `stallMs` (its deadline) and then ends with what it has, or
 * resolves undefined with nothing. Remuxing runs one clip at a time.
 */
export class ClipRecorder {
  private readonly recordings = new Map<string, { rec: Recording; result: Promise<RecordedClip | undefined> }>();
  private readonly timers: Timers;
  private readonly preRollMs: number;
  private readonly postRollMs: number;
  private readonly stallMs: number;
  private readonly maxGapUs: number;
  private stallTimer: unknown;
  private remuxing: Promise<unknown> = Promise.resolve();
  private readonly finishing = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly opts: ClipRecorderOptions) {
    this.timers = opts.timers ?? realTimers;
    this.preRollMs = opts.preRollMs ?? 5_000;
    this.postRollMs = opts.postRollMs ?? 10_000;
    this.stallMs = opts.stallMs ?? 5_000;
    this.maxGapUs = (opts.maxGapMs ?? 3_000) * 1000;
  }

  /** Recordings waiting for frames or their post-roll. */
  get active(): number {
    return this.recordings.size;
  }

  /**
   * Records the clip around `triggerAtMs` (wall clock, ms since epoch), by default with the
   * recorder's pre-roll and post-roll; see ClipSpan. Resolves with the clip, or undefined when
   * the camera gave no video; a second call for the same id while it records gets the same
   * clip. Rejects when remuxing fails, after `stop()`, or with `maxRecordings` running.
   */
  record(eventId: string, triggerAtMs: number, span: ClipSpan = { preRollMs: this.preRollMs, postRollMs: this.postRollMs }): Promise<RecordedClip | undefined> {
    const running = this.recordings.get(eventId);
    if (running !== undefined) return running.result;
    if (this.stopped) return Promise.reject(new Error("the clip recorder is stopped"));
    if (this.recordings.size >= (this.opts.maxRecordings ?? 4)) return Promise.reject(new Error(`${this.recordings.size} clips are being recorded already`));

    const last = "lastMs" in span;
    const fromUs = (triggerAtMs - (last ? span.lastMs : span.preRollMs)) * 1000;
    /** Video is awaited until then (plus the stall time), wall clock ms. */
    const untilMs = triggerAtMs + (last ? span.lastMs : span.postRollMs);
    let frames = this.opts.ring.since(fromUs);
    if (last) {
      const start = frames.findIndex((f) => f.key && f.capturedUs >= fromUs);
      frames = start < 0 ? [] : frames.slice(start);
    }
    let settle!: Pick<Recording, "resolve" | "reject">;
    const result = new Promise<RecordedClip | undefined>((resolve, reject) => (settle = { resolve, reject }));
    const rec: Recording = { eventId, triggerUs: triggerAtMs * 1000, toUs: untilMs * 1000, frames, bytes: 0, deadline: undefined, ...settle };
    if (last) rec.lengthUs = span.lastMs * 1000;
    const past = frames.findIndex((f) => pastEnd(rec, f));
    if (past >= 0) rec.frames = frames.slice(0, past);
    rec.bytes = rec.frames.reduce((n, f) => n + f.data.length, 0);
    this.recordings.set(eventId, { rec, result });
    if (past >= 0) {
      this.end(rec, "post-roll");
    } else {
      const wallNow = (this.opts.wallNowMs ?? Date.now)();
      rec.deadline = this.timers.setTimeout(() => this.end(rec, "deadline"), Math.max(0, untilMs - wallNow) + this.stallMs);
      if (rec.frames.length > 0) this.armStallTimer();
    }
    return result;
  }

  /** Every frame the camera makes, in order. */
  push(frame: EncodedFrame): void {
    this.opts.ring.push(frame);
    if (this.recordings.size === 0) return;
    for (const { rec } of [...this.recordings.values()]) {
      if (pastEnd(rec, frame)) {
        this.end(rec, "post-roll");
        continue;
      }
      const last = rec.frames[rec.frames.length - 1];
      if (last === undefined) {
        // The camera was off at the trigger: the clip starts at its first keyframe.
        if (frame.key) this.add(rec, frame);
      } else if (!continues(last, frame, this.maxGapUs)) {
        if (last.capturedUs >= rec.triggerUs) {
          this.end(rec, "gap");
        } else {
          // Only pre-roll from a run that ended before the trigger: the camera is back (on
          // demand), and what it sees after the trigger matters more.
          rec.frames = [];
          rec.bytes = 0;
          if (frame.key) this.add(rec, frame);
        }
      } else {
        this.add(rec, frame);
      }
    }
    if (this.recordings.size > 0) this.armStallTimer();
  }

  /** Ends every recording now with what it has (so an event still gets a shorter clip) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { rec } of [...this.recordings.values()]) this.end(rec, "stopped");
    this.timers.clearTimeout(this.stallTimer);
    await Promise.allSettled([...this.finishing]);
  }

  private add(rec: Recording, frame: EncodedFrame): void {
    rec.frames.push(frame);
    rec.bytes += frame.data.length;
    if (rec.bytes >= (this.opts.maxClipBytes ?? 64 * 1024 * 1024)) this.end(rec, "size");
  }

  private end(rec: Recording, how: ClipEnd): void {
    if (this.recordings.get(rec.eventId)?.rec !== rec) return;
    this.recordings.delete(rec.eventId);
    this.timers.clearTimeout(rec.deadline);
    if (this.recordings.size === 0) this.timers.clearTimeout(this.stallTimer);
    if (how !== "post-roll") this.opts.log?.warn({ eventId: rec.eventId, ended: how, frames: rec.frames.length }, "clip ended early");
    const finished = this.finish(rec, how);
    this.finishing.add(finished);
    finished.then(rec.resolve, rec.reject).finally(() => this.finishing.delete(finished));
  }

  private armStallTimer(): void {
    this.timers.clearTimeout(this.stallTimer);
    this.stallTimer = this.timers.setTimeout(() => {
      // A recording with nothing past the trigger yet waits for the camera until its deadline.
      for (const { rec } of [...this.recordings.values()]) if ((rec.frames.at(-1)?.capturedUs ?? -1) >= rec.triggerUs) this.end(rec, "stalled");
    }, this.stallMs);
  }

  private async finish(rec: Recording, ended: ClipEnd): Promise<RecordedClip | undefined> {
    const frames = rec.frames;
    if (frames.length === 0) return undefined;
    const { fps } = this.opts;
    const remux = this.opts.remux ?? remuxToMp4;
    const job = this.remuxing.then(() => remux(frames, fps));
    this.remuxing = job.catch(() => undefined);
    const mp4 = await job;
    const times = frameTimes(frames, fps);
    const pts = times.dtsMs.map((d, i) => d + (times.ctsMs[i] as number));
    const clip: RecordedClip = {
      eventId: rec.eventId,
      mp4,
      durationMs: Math.max(...pts) - Math.min(...pts) + times.frameMs,
      firstFrameAt: Math.round((frames[0] as EncodedFrame).capturedUs / 1000),
      ended,
      frames: frames.length,
    };
    try {
      this.opts.onClip?.(clip);
    } catch (err) {
      this.opts.log?.error({ err, eventId: rec.eventId }, "the clip listener failed");
    }
    return clip;
  }
}

/**
 * Whether `frame` is past the recording's end: past the post-roll (capture wall clock, as the
 * trigger), or for a clip of the last seconds, past its length from the first frame by PTS, so
 * the clip lasts the length (capture times of frames come in bursts; PTS are the encoder's).
 */
function pastEnd(rec: Recording, frame: EncodedFrame): boolean {
  if (rec.lengthUs === undefined) return frame.capturedUs > rec.toUs;
  const first = rec.frames[0];
  return first !== undefined && frame.ptsUs - first.ptsUs >= rec.lengthUs;
}
