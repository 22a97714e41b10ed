import { TIMESCALE, fragment, initSegment, splitNals, type Fmp4Sample } from "@picket/contracts/fmp4";
import { readAvcConfig, sameAvcConfig, toSampleData, type AvcConfig } from "@picket/contracts/h264";
import type { AccessUnit } from "./video-sources.js";

/** Complete segments a playlist needs before it is first served (see `ready`). */
const READY_SEGMENTS = 3;

/** A partial segment: one fMP4 fragment of consecutive frames. */
export interface HlsPart {
  /** Position in its segment, from 0. */
  index: number;
  durationS: number;
  /** Starts with a keyframe (the first part of every segment). */
  independent: boolean;
  bytes: Uint8Array;
  /** Capture wall clock of its last frame, µs since epoch. */
  lastCapturedUs: number;
}

/** A media segment: the parts from one keyframe up to the next. */
export interface HlsSegment {
  /** Media sequence number. */
  msn: number;
  /** Capture wall clock of its first frame, ms since epoch. */
  startedMs: number;
  parts: HlsPart[];
  /** False while parts are still being added. */
  complete: boolean;
  durationS: number;
  /** The parts joined, once complete. */
  bytes: Uint8Array | undefined;
}

export interface PackagerOptions {
  /** Media sequence number of the first segment. */
  firstMsn: number;
  /** A part ends before it would pass this (default 0.5 s); one frame at least. */
  partTargetS?: number;
  /** Complete segments kept (default 6). */
  keepSegments?: number;
  /** Frame duration assumed until two frames have shown the real one (default 25 fps). */
  nominalFrameS?: number;
}

/** Where a requested part or segment stands. */
export type Availability = "ready" | "later" | "never";

interface OpenPart {
  startTick: number;
  samples: Fmp4Sample[];
  lastCapturedUs: number;
}

interface PendingFrame {
  data: Uint8Array;
  key: boolean;
  tick: number;
  capturedUs: number;
}

/**
 * Cuts one camera's access units into LL-HLS segments and parts. A segment starts at every
 * keyframe; within it a part closes when the next frame would take it past the part target.
 * A frame's duration is known only when the frame after it arrives, so a part is published
 * one frame after its last frame. Timestamps follow the camera's PTS on a continuous 90 kHz
 * timeline: a lost frame, a PTS jump (encoder restart) or a stall ends the segment, and the
 * next keyframe carries on where the last frame ended. No I/O; listeners hear of each part.
 */
export class HlsPackager {
  private readonly partTargetTicks: number;
  private readonly keep: number;
  private config: AvcConfig | undefined;
  private initBytes: Uint8Array | undefined;
  private version = 0;
  private discontinuities = 0;
  private segs: HlsSegment[] = [];
  private open: OpenPart | undefined;
  private pending: PendingFrame | undefined;
  private lastSeq = -1;
  private lastPtsUs = 0;
  private endTick = 0;
  private nominalTicks: number;
  private nextMsn: number;
  private fragmentSeq = 1;
  private longestS = 0;
  private readonly listeners = new Set<(part: HlsPart | undefined) => void>();

  constructor(opts: PackagerOptions) {
    this.nextMsn = opts.firstMsn;
    this.partTargetTicks = Math.round((opts.partTargetS ?? 0.5) * TIMESCALE);
    this.keep = opts.keepSegments ?? 6;
    this.nominalTicks = Math.round((opts.nominalFrameS ?? 1 / 25) * TIMESCALE);
  }

  get partTargetS(): number {
    return this.partTargetTicks / TIMESCALE;
  }

  /** The init segment (`ftyp` + `moov`); undefined before the first keyframe. */
  get init(): Uint8Array | undefined {
    return this.initBytes;
  }

  /** Goes up each time the stream's decoder configuration changes (and the init segment with it). */
  get initVersion(): number {
    return this.version;
  }

  get discontinuitySequence(): number {
    return this.discontinuities;
  }

  /** Complete segments, oldest first, then the one being filled, if any. */
  get segments(): readonly HlsSegment[] {
    return this.segs;
  }

  /** The longest segment so far in whole seconds (rounded as EXTINF is), at least 1. */
  get targetDurationS(): number {
    return Math.max(1, Math.round(this.longestS));
  }

  /**
   * A playlist can be served: the window holds three complete segments. Players start three
   * target durations from the end of a live playlist (RFC 8216 6.3.3), so a shorter one
   * leaves them no place to start, and some (Chromium's own HLS) fail on it.
   */
  get ready(): boolean {
    return this.segs.filter((s) => s.complete).length >= READY_SEGMENTS;
  }

  /** Where the next part will be: for the preload hint. */
  get nextPart(): { msn: number; index: number } {
    const last = this.segs.at(-1);
    return last !== undefined && !last.complete ? { msn: last.msn, index: last.parts.length } : { msn: this.nextMsn, index: 0 };
  }

  /**
   * Calls `listener` on every change to what a playlist would say: with the part just
   * published, or with undefined (a segment ended without a new part, or the window started over).
   */
  onChange(listener: (part: HlsPart | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push({ meta, data }: AccessUnit): void {
    // A lost frame breaks decoding until the next keyframe.
    if (this.lastSeq >= 0 && meta.seq !== this.lastSeq + 1) this.interrupt();
    this.lastSeq = meta.seq;
    if (this.pending === undefined && !meta.key) return;
    const nals = splitNals(data);
    if (meta.key) {
      const config = readAvcConfig(nals, meta);
      if (config !== undefined && (this.config === undefined || !sameAvcConfig(config, this.config))) this.restart(config);
    }
    if (this.config === undefined) return;

    const tick = this.tickOf(meta.ptsUs);
    this.lastPtsUs = meta.ptsUs;
    if (this.pending !== undefined) {
      this.nominalTicks = Math.max(1, tick - this.pending.tick);
      this.append(this.pending, tick - this.pending.tick);
      const open = this.open as OpenPart;
      if (meta.key) this.closeSegment();
      else if (tick - open.startTick + this.nominalTicks > this.partTargetTicks) this.closePart();
    }
    if (meta.key) this.segs.push({ msn: this.nextMsn++, startedMs: meta.capturedUs / 1000, parts: [], complete: false, durationS: 0, bytes: undefined });
    this.open ??= { startTick: tick, samples: [], lastCapturedUs: meta.capturedUs };
    this.pending = { data: toSampleData(nals), key: meta.key, tick, capturedUs: meta.capturedUs };
  }

  /**
   * Ends the segment with the frames received so far (the newest one lasting a nominal frame)
   * and waits for the next keyframe: for a lost frame, or a camera that went quiet.
   */
  interrupt(): void {
    if (this.pending === undefined) return;
    this.append(this.pending, this.nominalTicks);
    this.pending = undefined;
    this.closeSegment();
  }

  part(msn: number, index: number): HlsPart | undefined {
    return this.segs.find((s) => s.msn === msn)?.parts[index];
  }

  segment(msn: number): HlsSegment | undefined {
    return this.segs.find((s) => s.msn === msn);
  }

  /** Whether part `index` of segment `msn` exists, may still come, or never will (gone, or its segment ended sooner). */
  partAvailability(msn: number, index: number): Availability {
    const seg = this.segment(msn);
    if (seg === undefined) return msn === this.nextMsn ? "later" : "never";
    if (index < seg.parts.length) return "ready";
    return seg.complete ? "never" : "later";
  }

  segmentAvailability(msn: number): Availability {
    const seg = this.segment(msn);
    if (seg === undefined) return msn === this.nextMsn ? "later" : "never";
    return seg.complete ? "ready" : "later";
  }

  /**
   * Whether a playlist now holds segment `msn` complete, or part `part` of it, or anything
   * later: the condition a blocking playlist reload (`_HLS_msn`, `_HLS_part`) waits for.
   */
  reached(msn: number, part?: number): boolean {
    const last = this.segs.at(-1);
    if (last === undefined || msn > last.msn) return false;
    if (msn < last.msn || last.complete) return true;
    return part !== undefined && part < last.parts.length;
  }

  private tickOf(ptsUs: number): number {
    if (this.pending === undefined) return this.endTick;
    const delta = Math.round(((ptsUs - this.lastPtsUs) * TIMESCALE) / 1e6);
    // A PTS that goes back or leaps (the encoder restarted) keeps the timeline going.
    return this.pending.tick + (delta > 0 && delta <= TIMESCALE ? delta : this.nominalTicks);
  }

  private append(frame: PendingFrame, duration: number): void {
    const open = this.open as OpenPart;
    open.samples.push({ data: frame.data, duration, key: frame.key });
    open.lastCapturedUs = frame.capturedUs;
    this.endTick = frame.tick + duration;
  }

  /** Publishes the open part, if it has frames; listeners hear of it unless `quiet`. */
  private closePart(quiet = false): HlsPart | undefined {
    const open = this.open;
    const seg = this.segs.at(-1);
    this.open = undefined;
    if (open === undefined || seg === undefined || seg.complete || open.samples.length === 0) return undefined;
    const ticks = open.samples.reduce((n, s) => n + s.duration, 0);
    const part: HlsPart = {
      index: seg.parts.length,
      durationS: ticks / TIMESCALE,
      independent: open.samples[0]?.key === true,
      bytes: fragment(this.config as AvcConfig, this.fragmentSeq++, open.startTick, open.samples),
      lastCapturedUs: open.lastCapturedUs,
    };
    seg.parts.push(part);
    if (!quiet) this.emit(part);
    return part;
  }

  private closeSegment(): void {
    const published = this.closePart(true);
    const seg = this.segs.at(-1);
    if (seg === undefined || seg.complete) return;
    seg.complete = true;
    seg.durationS = seg.parts.reduce((n, p) => n + p.durationS, 0);
    // The parts become views of the joined segment, so their bytes are held once.
    const bytes = Buffer.concat(seg.parts.map((p) => p.bytes));
    let off = 0;
    for (const p of seg.parts) {
      const length = p.bytes.length;
      p.bytes = bytes.subarray(off, off + length);
      off += length;
    }
    seg.bytes = bytes;
    this.longestS = Math.max(this.longestS, seg.durationS);
    while (this.segs.filter((s) => s.complete).length > this.keep) this.segs.shift();
    // Listeners hear once the segment is complete, so what they check sees it so.
    this.emit(published);
  }

  private emit(part: HlsPart | undefined): void {
    for (const l of this.listeners) l(part);
  }

  /** A new decoder configuration: a new init segment, and a window that starts over with it. */
  private restart(config: AvcConfig): void {
    const first = this.config === undefined;
    this.interrupt();
    this.config = config;
    this.initBytes = initSegment(config);
    if (first) return;
    this.version++;
    this.discontinuities++;
    this.segs = [];
    this.longestS = 0;
    this.emit(undefined);
  }
}
