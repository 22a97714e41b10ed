import { spawn } from "node:child_process";

/** One access unit of a raw H.264 stream, Annex-B with 4-byte start codes. */
export interface AccessUnit {
  data: Uint8Array;
  key: boolean;
}

export interface TestVideo {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** Keyframe interval in frames. */
  gop: number;
}

/**
 * Real H.264 from ffmpeg's test pattern, as the camera emits it: yuv420p, no B-frames,
 * SPS and PPS in front of every keyframe, raw Annex-B.
 */
export function encodeTestVideo(v: TestVideo): Promise<Buffer> {
  const args = [
    "-hide_banner", "-loglevel", "error",
    "-f", "lavfi", "-i", `testsrc2=size=${v.width}x${v.height}:rate=${v.fps}`,
    "-t", String(v.seconds),
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
    "-g", String(v.gop), "-keyint_min", String(v.gop), "-x264-params", "repeat-headers=1",
    "-f", "h264", "pipe:1",
  ];
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("error", reject);
    p.once("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

const isVcl = (type: number) => type === 1 || type === 5;

/** Splits a raw Annex-B stream into access units (a new one at a delimiter, parameter set, SEI or a picture's first slice). */
export function splitAccessUnits(stream: Uint8Array): AccessUnit[] {
  const nals: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] !== 0 || stream[i + 1] !== 0 || stream[i + 2] !== 1) continue;
    if (start >= 0) {
      let end = i;
      while (end > start && stream[end - 1] === 0) end--;
      nals.push(stream.subarray(start, end));
    }
    start = i + 3;
    i += 2;
  }
  if (start >= 0) nals.push(stream.subarray(start));

  const units: AccessUnit[] = [];
  let current: Uint8Array[] = [];
  let hasVcl = false;
  const flush = () => {
    if (current.length === 0) return;
    const data = new Uint8Array(current.reduce((n, nal) => n + 4 + nal.length, 0));
    let off = 0;
    for (const nal of current) {
      data.set([0, 0, 0, 1], off);
      data.set(nal, off + 4);
      off += 4 + nal.length;
    }
    units.push({ data, key: current.some((n) => ((n[0] as number) & 0x1f) === 5) });
    current = [];
    hasVcl = false;
  };
  for (const nal of nals) {
    const type = (nal[0] as number) & 0x1f;
    // first_mb_in_slice is ue(v): its first bit is 1 exactly when it is 0, i.e. a new picture.
    const firstSlice = isVcl(type) && ((nal[1] as number) & 0x80) !== 0;
    if (hasVcl && (type === 9 || type === 7 || type === 8 || type === 6 || firstSlice)) flush();
    current.push(nal);
    if (isVcl(type)) hasVcl = true;
  }
  flush();
  return units;
}
