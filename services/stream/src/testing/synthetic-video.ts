import type { VideoMeta } from "@picket/contracts";
import { AUD, PPS, SPS, annexB, picture } from "@picket/contracts/testing";
import type { AccessUnit } from "../video-sources.js";

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
