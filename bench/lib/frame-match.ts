// Picture quality of a received stream against the frames the camera saw: each decoded frame
// is paired with the source frame it shows (found by content, since neither Motion's MJPEG nor
// a websocket carries the source's frame number), then ffmpeg's ssim filter compares the pairs.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** Block-averaged luma thumbnail (every `block`×`block` pixels → one value). */
export function thumb(y: Uint8Array, width: number, height: number, block: number): Float32Array {
  const tw = Math.floor(width / block);
  const th = Math.floor(height / block);
  const out = new Float32Array(tw * th);
  for (let row = 0; row < th * block; row++) {
    const base = row * width;
    const o = Math.floor(row / block) * tw;
    for (let col = 0; col < tw * block; col++) out[o + Math.floor(col / block)] = (out[o + Math.floor(col / block)] as number) + (y[base + col] as number);
  }
  const n = block * block;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / n;
  return out;
}

const sad = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
};

export interface Match {
  /** Source frame index (0-based) shown by each received frame. */
  index: number[];
  /** Mean absolute luma difference per thumbnail pixel of each pair (0–255). */
  error: number[];
  /** Each frame's second-best source frame's error less its best's: how clearly the best won. */
  gap: number[];
}

/** For each frame of `frames` (I420, concatenated), the most alike of `refs` (thumbnails). */
export function matchFrames(frames: Uint8Array, width: number, height: number, refs: Float32Array[], block: number): Match {
  const size = (width * height * 3) / 2;
  const out: Match = { index: [], error: [], gap: [] };
  for (let off = 0; off + size <= frames.length; off += size) {
    const t = thumb(frames.subarray(off, off + width * height), width, height, block);
    const errs = refs.map((r) => sad(t, r));
    let best = 0;
    for (let i = 1; i < errs.length; i++) if ((errs[i] as number) < (errs[best] as number)) best = i;
    let second = Number.POSITIVE_INFINITY;
    for (let i = 0; i < errs.length; i++) if (i !== best) second = Math.min(second, errs[i] as number);
    out.index.push(best);
    out.error.push(errs[best] as number);
    out.gap.push(second - (errs[best] as number));
  }
  return out;
}

/** Share of consecutive received frames whose source frames are consecutive too (in a loop of `n`). */
export function sequentialShare(index: number[], n: number): number {
  let ok = 0;
  for (let k = 1; k < index.length; k++) if (((index[k] as number) - (index[k - 1] as number) + n) % n === 1) ok++;
  return index.length > 1 ? ok / (index.length - 1) : 0;
}

/** Decodes a file ffmpeg can read (`format`: h264, mjpeg) to concatenated planar 4:2:0 frames, every frame kept. */
export function decodeToI420(input: string, format: string, output: string, pixFmt = "yuv420p"): Uint8Array {
  const r = spawnSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", format, "-i", input, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pixFmt, output], { maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg could not decode ${input}: ${r.stderr?.toString()}`);
  return readFileSync(output);
}

export interface Ssim {
  all: number;
  y: number;
  u: number;
  v: number;
  frames: number;
}

/** ffmpeg's ssim filter over two I420 files of equal frame count. */
export function ssim(a: string, b: string, width: number, height: number): Ssim {
  const input = (f: string) => ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${width}x${height}`, "-i", f];
  const r = spawnSync("ffmpeg", ["-hide_banner", "-nostats", ...input(a), ...input(b), "-lavfi", "ssim", "-f", "null", "-"], { maxBuffer: 4 << 20 });
  const text = r.stderr?.toString() ?? "";
  const m = /SSIM Y:([\d.]+) \S+ U:([\d.]+) \S+ V:([\d.]+) \S+ All:([\d.]+)/.exec(text);
  if (r.status !== 0 || m === null) throw new Error(`ffmpeg ssim failed: ${text.slice(-2000)}`);
  const size = (width * height * 3) / 2;
  return { y: Number(m[1]), u: Number(m[2]), v: Number(m[3]), all: Number(m[4]), frames: Math.floor(readFileSync(a).length / size) };
}

/** Writes `frames` picked by index from `pick` into one I420 file. */
export function writeFrames(file: string, pick: (i: number) => Uint8Array, indices: number[]): void {
  writeFileSync(file, Buffer.concat(indices.map((i) => pick(i))));
}
