import type { VideoMeta } from "@picket/contracts";
import type { AccessUnit } from "../video-sources.js";

const START = [0, 0, 0, 1];
export const SPS = Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8]);
export const PPS = Uint8Array.from([0x68, 0xce, 0x0f, 0x2c, 0x80]);
const AUD = Uint8Array.from([0x09, 0xf0]);

/** Joins NAL units as Annex-B. */
export function annexB(...nals: Uint8Array[]): Uint8Array {
  return Uint8Array.from(nals.flatMap((n) => [...START, ...n]));
}

/** A picture NAL unit (IDR or not) whose bytes say which frame it is. */
export function picture(n: number, key: boolean): Uint8Array {
  return Uint8Array.from([key ? 0x65 : 0x41, 0x88, (n >> 8) & 0xff, n & 0xff, 0x11, 0x22]);
}

/**
 * Access units as the camera publishes them, without an encoder: a keyframe (delimiter,
 * SPS, PPS, IDR) every `gop` frames, `fps` frames a second, seq and PTS counting up.
 * `next()` takes overrides for one frame.
 */
export function syntheticVideo(opts: { fps?: number; gop?: number; sps?: Uint8Array; width?: number; height?: number; startUs?: number } = {}) {
  const fps = opts.fps ?? 25;
  const gop = opts.gop ?? 50;
  const start = opts.startUs ?? 1_700_000_000_000_000;
  let n = 0;
  let ptsShift = 0;
  return {
    next(over: Partial<VideoMeta> = {}): AccessUnit {
      const key = over.key ?? n % gop === 0;
      const ptsUs = over.ptsUs ?? Math.round((n * 1e6) / fps) + ptsShift;
      const meta: VideoMeta = { seq: n, ptsUs, capturedUs: start + ptsUs, key, codec: "avc1.42c01f", width: opts.width ?? 1280, height: opts.height ?? 720, ...over };
      const data = key ? annexB(AUD, opts.sps ?? SPS, PPS, picture(n, true)) : annexB(AUD, picture(n, false));
      n++;
      return { meta, data };
    },
    /** Moves the PTS of every later frame, as an encoder restart does. */
    shiftPts(us: number): void {
      ptsShift += us;
    },
    /** Skips `count` frames, as if they were lost on the way. */
    skip(count: number): void {
      n += count;
    },
  };
}
