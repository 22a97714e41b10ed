import type { EncodedFrame } from "../../services/camera/src/capture.js";

/** Capture wall clock of frame 0, µs. */
export const T0 = 1_750_000_000_000_000;

/** Frame `i` of a 25 fps stream with a keyframe every `gop` frames, captured at T0 + i·40 ms. */
export const frame = (i: number, gop = 50, bytes = 1000, over: Partial<EncodedFrame> = {}): EncodedFrame => ({
  data: new Uint8Array(bytes),
  key: i % gop === 0,
  ptsUs: i * 40_000,
  runPtsMs: i * 40,
  capturedUs: T0 + i * 40_000,
  codec: "avc1.42c01f",
  width: 1280,
  height: 720,
  ...over,
});

/** Wall clock of frame `i`, ms. */
export const ms = (i: number): number => (T0 + i * 40_000) / 1000;
