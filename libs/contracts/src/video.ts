import { DecodeError } from "./decode.js";

/** Wall-clock time in µs since the epoch, at sub-millisecond resolution: the clock of every µs stamp here and in live frames. */
export const wallClockUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** NATS header names carried by every `picket.<d>.video.<profile>` message. */
export const VideoHeader = {
  seq: "Picket-Seq",
  ptsUs: "Picket-Pts-Us",
  capturedUs: "Picket-Captured-Us",
  key: "Picket-Key",
  codec: "Picket-Codec",
  width: "Picket-Width",
  height: "Picket-Height",
  /** `i/n` when an access unit larger than the server's max_payload travels in n parts. */
  part: "Picket-Part",
  /** Ends a camera's answer to a GOP request (subjects.cameraGop): the number of units sent. */
  gopEnd: "Picket-Gop-End",
} as const;

/** Metadata of one H.264 access unit. */
export interface VideoMeta {
  /** Increases by one per access unit for the life of the camera service, across restarts of its encoder. */
  seq: number;
  /** Presentation time in µs, monotonic within a run of the encoder. */
  ptsUs: number;
  /** Wall-clock time the access unit left the encoder, µs since epoch. */
  capturedUs: number;
  /** An IDR access unit; SPS and PPS precede it in the payload. */
  key: boolean;
  /** RFC 6381 codec string, e.g. `avc1.42c01f`. */
  codec: string;
  width: number;
  height: number;
}

export interface HeaderReader {
  get(name: string): string;
}

export function videoHeaders(meta: VideoMeta, part?: { index: number; count: number }): Record<string, string> {
  const h: Record<string, string> = {
    [VideoHeader.seq]: String(meta.seq),
    [VideoHeader.ptsUs]: String(meta.ptsUs),
    [VideoHeader.capturedUs]: String(meta.capturedUs),
    [VideoHeader.key]: meta.key ? "1" : "0",
    [VideoHeader.codec]: meta.codec,
    [VideoHeader.width]: String(meta.width),
    [VideoHeader.height]: String(meta.height),
  };
  if (part !== undefined) h[VideoHeader.part] = `${part.index}/${part.count}`;
  return h;
}

function int(h: HeaderReader | undefined, name: string, subject: string, min = 0): number {
  const raw = h?.get(name) ?? "";
  if (!/^\d{1,16}$/.test(raw)) throw new DecodeError(subject, `header ${name} must be an integer, got "${raw.slice(0, 20)}"`);
  const n = Number(raw);
  // 16 digits pass the pattern yet may exceed 2^53, where seq + 1 === seq.
  if (!Number.isSafeInteger(n)) throw new DecodeError(subject, `header ${name} must be at most ${Number.MAX_SAFE_INTEGER}`);
  if (n < min) throw new DecodeError(subject, `header ${name} must be ≥ ${min}`);
  return n;
}

/** Reads the video headers; throws DecodeError naming the first bad one. */
export function readVideoHeaders(
  h: HeaderReader | undefined,
  subject: string,
): VideoMeta & { part?: { index: number; count: number } } {
  if (h === undefined) throw new DecodeError(subject, "video message without headers");
  const key = h.get(VideoHeader.key);
  if (key !== "0" && key !== "1") throw new DecodeError(subject, `header ${VideoHeader.key} must be 0 or 1`);
  const codec = h.get(VideoHeader.codec);
  if (!/^avc1\.[0-9a-fA-F]{6}$/.test(codec)) throw new DecodeError(subject, `header ${VideoHeader.codec} is not an avc1 codec string`);
  const meta: VideoMeta & { part?: { index: number; count: number } } = {
    seq: int(h, VideoHeader.seq, subject),
    ptsUs: int(h, VideoHeader.ptsUs, subject),
    capturedUs: int(h, VideoHeader.capturedUs, subject),
    key: key === "1",
    codec,
    width: int(h, VideoHeader.width, subject, 1),
    height: int(h, VideoHeader.height, subject, 1),
  };
  const part = h.get(VideoHeader.part);
  if (part !== "") {
    const m = /^(\d{1,4})\/(\d{1,4})$/.exec(part);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (m === null || count < 2 || index < 1 || index > count) {
      throw new DecodeError(subject, `header ${VideoHeader.part} must be i/n with 1 ≤ i ≤ n, n ≥ 2`);
    }
    meta.part = { index, count };
  }
  return meta;
}

/** Splits a payload into pieces of at most `max` bytes (one piece when it fits). */
export function splitPayload(data: Uint8Array, max: number): Uint8Array[] {
  if (max <= 0) throw new RangeError("max must be positive");
  if (data.length <= max) return [data];
  const parts: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += max) parts.push(data.subarray(off, off + max));
  return parts;
}

/**
 * Joins access units that arrived in parts. Parts of one unit arrive in order on one
 * subject (NATS keeps publish order per publisher), so only the unit in progress is held;
 * a missing part drops that unit and says so through the returned `dropped` count.
 */
export class PartAssembler {
  private seq = -1;
  private parts: Uint8Array[] = [];
  private expected = 0;
  /** The unit last counted as dropped, so its remaining parts do not count it again. */
  private droppedSeq = -1;
  private bytes = 0;
  dropped = 0;

  /** @param maxBytes the largest access unit accepted (8 MB; a 4K keyframe is well under 2 MB). */
  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  /** Returns the whole payload when `data` completes a unit, else undefined. */
  push(meta: { seq: number; part?: { index: number; count: number } }, data: Uint8Array): Uint8Array | undefined {
    if (meta.part === undefined) {
      this.abandon();
      return data;
    }
    const { index, count } = meta.part;
    if (index === 1) {
      this.abandon();
      this.seq = meta.seq;
      this.expected = count;
    } else if (meta.seq !== this.seq || index !== this.parts.length + 1 || count !== this.expected) {
      // The unit in progress is lost, and so is the one this part belongs to (the same unit, or
      // one whose start was missed); each counts once however many of its parts still arrive.
      const inProgress = this.seq;
      this.abandon();
      if (meta.seq !== inProgress) this.countDrop(meta.seq);
      return undefined;
    }
    this.parts.push(data);
    this.bytes += data.length;
    if (this.bytes > this.maxBytes) {
      // A unit this large is not video: a bound so a hostile publisher cannot exhaust memory.
      this.abandon();
      return undefined;
    }
    if (this.parts.length < this.expected) return undefined;
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const whole = new Uint8Array(total);
    let off = 0;
    for (const p of this.parts) {
      whole.set(p, off);
      off += p.length;
    }
    this.reset();
    return whole;
  }

  /** Drops the unit in progress, if any. */
  private abandon(): void {
    if (this.parts.length > 0) this.countDrop(this.seq);
    this.reset();
  }

  private countDrop(seq: number): void {
    if (seq === this.droppedSeq) return;
    this.droppedSeq = seq;
    this.dropped++;
  }

  private reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.expected = 0;
    this.seq = -1;
  }
}
