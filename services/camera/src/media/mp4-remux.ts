import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toAvcc } from "@picket/contracts/h264";
import type { EncodedFrame } from "../capture.js";
import { NalType, nalType, splitAnnexB } from "../h264.js";

/** ffmpeg could not turn the frames into an MP4. */
export class RemuxError extends Error {
  override readonly name = "RemuxError";
}

export const isRemuxError = (err: unknown): err is RemuxError => err instanceof RemuxError;

export interface RemuxOptions {
  /** The ffmpeg binary (default `ffmpeg` on the PATH). */
  ffmpeg?: string;
  /** ffmpeg is killed after this long (default 30 s). */
  timeoutMs?: number;
}

/** Decode and presentation times of a clip's frames in ms from its start, as FLV carries them. */
export interface FrameTimes {
  dtsMs: number[];
  /** Presentation minus decode time, ≥ 0 (non-zero only with B-frames). */
  ctsMs: number[];
  /** One frame's duration: the median step between frames, or 1000/fps with a single frame. */
  frameMs: number;
}

/**
 * Frame times from the frames' `ptsUs`, so the clip keeps the real timing (dropped frames,
 * a variable rate) instead of assuming a constant rate. Frames come in decode order; with
 * B-frames their PTS are not monotonic, so the decode times are the sorted PTS, shifted so
 * that no frame is shown before it is decoded.
 */
export function frameTimes(frames: readonly Pick<EncodedFrame, "ptsUs">[], fps: number): FrameTimes {
  const base = frames.reduce((min, f) => Math.min(min, f.ptsUs), Infinity);
  const ptsMs = frames.map((f) => Math.round((f.ptsUs - base) / 1000));
  const sorted = [...ptsMs].sort((a, b) => a - b);
  const shift = sorted.reduce((max, s, i) => Math.max(max, s - (ptsMs[i] as number)), 0);
  const dtsMs: number[] = [];
  for (const s of sorted) {
    const prev = dtsMs[dtsMs.length - 1];
    // MP4 wants strictly increasing decode times: two frames in one ms move apart by one.
    dtsMs.push(prev === undefined ? s : Math.max(s, prev + 1));
  }
  const ctsMs = ptsMs.map((p, i) => Math.max(0, p + shift - (dtsMs[i] as number)));
  const steps = dtsMs.slice(1).map((d, i) => d - (dtsMs[i] as number)).sort((a, b) => a - b);
  const frameMs = steps.length > 0 ? (steps[steps.length >> 1] as number) : Math.max(1, Math.round(1000 / fps));
  return { dtsMs, ctsMs, frameMs };
}

/**
 * Repackages H.264 access units as an MP4 without re-encoding (`-c copy`), with the index
 * (`moov`) in front so a browser or Telegram can play it while it downloads.
 *
 * `frames` must start at a keyframe that carries SPS and PPS (as the camera emits them) and
 * share one codec and size. The frames go to ffmpeg as FLV, which carries each frame's
 * timestamp, so the MP4 lasts exactly the covered time: last minus first PTS plus one frame.
 * ffmpeg writes to a temporary file because `+faststart` rewrites the file after muxing.
 */
export async function remuxToMp4(frames: readonly EncodedFrame[], fps: number, opts: RemuxOptions = {}): Promise<Buffer> {
  const first = frames[0];
  if (first === undefined) throw new RemuxError("no frames to remux");
  if (!first.key) throw new RemuxError("a clip must start at a keyframe");
  const firstNals = splitAnnexB(first.data);
  const sps = firstNals.filter((n) => nalType(n) === NalType.sps);
  const pps = firstNals.filter((n) => nalType(n) === NalType.pps);
  if (sps.length === 0 || pps.length === 0) throw new RemuxError("the first keyframe has no SPS or PPS");
  const times = frameTimes(frames, fps);

  const dir = await mkdtemp(join(tmpdir(), "picket-clip-"));
  const out = join(dir, "clip.mp4");
  try {
    await runFfmpeg(opts, [
      "-hide_banner", "-nostdin", "-loglevel", "error",
      "-f", "flv", "-i", "pipe:0",
      "-map", "0:v:0", "-c", "copy",
      // FLV has no frame durations, so the last frame would get a guess. The track keeps
      // FLV's ms time base so that the duration set here means ms in every ffmpeg version.
      "-video_track_timescale", "1000", "-bsf:v", `setts=duration=${times.frameMs}`,
      "-movflags", "+faststart", "-f", "mp4", "-y", out,
    ], flvChunks(frames, times, sps, pps));
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runFfmpeg(opts: RemuxOptions, args: string[], input: Iterable<Uint8Array>): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(opts.ffmpeg ?? "ffmpeg", args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      if (stderr.length < 4_000) stderr += text;
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new RemuxError(`could not start ffmpeg: ${err.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new RemuxError(`ffmpeg ${signal === "SIGKILL" ? `was killed after ${timeoutMs} ms` : `exited with ${code ?? signal}`}: ${stderr.trim().slice(0, 300)}`));
    });
    // ffmpeg closing its input early shows as its exit code; EPIPE here adds nothing.
    child.stdin.on("error", () => undefined);
    void writeAll(child.stdin, input);
  });
}

async function writeAll(stream: NodeJS.WritableStream, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (stream.write(chunk)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const done = (drained: boolean) => () => {
        stream.off("drain", onDrain);
        stream.off("close", onClose);
        resolve(drained);
      };
      const onDrain = done(true);
      const onClose = done(false);
      stream.once("drain", onDrain);
      stream.once("close", onClose);
    });
    if (!ok) return;
  }
  stream.end();
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** An FLV stream: header, the AVC decoder configuration, then one tag per frame. */
function* flvChunks(frames: readonly EncodedFrame[], times: FrameTimes, sps: Uint8Array[], pps: Uint8Array[]): Generator<Uint8Array> {
  // "FLV", version 1, video only, header size 9, then PreviousTagSize0.
  yield Uint8Array.of(0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0);
  yield videoTag(0, 0, true, 0, avcConfig(sps, pps));
  const known = [...sps, ...pps];
  for (const [i, frame] of frames.entries()) {
    // Parameter sets already in the configuration and delimiters stay out of the samples.
    const nals = splitAnnexB(frame.data).filter((n) => {
      const t = nalType(n);
      if (t === NalType.aud) return false;
      return !((t === NalType.sps || t === NalType.pps) && known.some((k) => sameBytes(k, n)));
    });
    yield videoTag(times.dtsMs[i] as number, times.ctsMs[i] as number, frame.key, 1, toAvcc(nals));
  }
}

/** AVCDecoderConfigurationRecord with 4-byte NAL lengths. */
function avcConfig(sps: Uint8Array[], pps: Uint8Array[]): Uint8Array {
  const first = sps[0] as Uint8Array;
  const parts: number[] = [1, first[1] ?? 0, first[2] ?? 0, first[3] ?? 0, 0xff, 0xe0 | sps.length];
  const set = (nal: Uint8Array) => parts.push(nal.length >> 8, nal.length & 0xff, ...nal);
  sps.forEach(set);
  parts.push(pps.length);
  pps.forEach(set);
  return Uint8Array.from(parts);
}

/** One FLV video tag (AVC) with its trailing PreviousTagSize. */
function videoTag(dtsMs: number, ctsMs: number, key: boolean, packetType: 0 | 1, payload: Uint8Array): Uint8Array {
  const size = 5 + payload.length;
  const tag = new Uint8Array(11 + size + 4);
  const view = new DataView(tag.buffer);
  tag[0] = 9;
  tag[1] = (size >> 16) & 0xff;
  tag[2] = (size >> 8) & 0xff;
  tag[3] = size & 0xff;
  tag[4] = (dtsMs >> 16) & 0xff;
  tag[5] = (dtsMs >> 8) & 0xff;
  tag[6] = dtsMs & 0xff;
  tag[7] = (dtsMs >>> 24) & 0xff;
  tag[11] = ((key ? 1 : 2) << 4) | 7;
  tag[12] = packetType;
  tag[13] = (ctsMs >> 16) & 0xff;
  tag[14] = (ctsMs >> 8) & 0xff;
  tag[15] = ctsMs & 0xff;
  tag.set(payload, 16);
  view.setUint32(11 + size, 11 + size);
  return tag;
}
