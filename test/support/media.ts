import { spawn } from "node:child_process";

export interface ProbedStream {
  codec_name: string;
  width: number;
  height: number;
  nb_read_frames?: string;
}

/**
 * Decodes bytes with the real ffprobe. `format` forces the demuxer (e.g. "h264" for a raw
 * Annex-B stream); `countFrames` decodes every frame and reports how many decoded.
 */
export function ffprobe(bytes: Buffer, opts: { format?: string; countFrames?: boolean } = {}): Promise<ProbedStream> {
  const entries = opts.countFrames === true ? "stream=width,height,codec_name,nb_read_frames" : "stream=width,height,codec_name";
  const args = ["-v", "error", ...(opts.countFrames === true ? ["-count_frames"] : []), ...(opts.format !== undefined ? ["-f", opts.format] : []), "-show_entries", entries, "-of", "json", "-"];
  return new Promise((resolve, reject) => {
    const p = spawn("ffprobe", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.stdin.on("error", () => undefined);
    p.once("error", reject);
    p.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`ffprobe exited ${code}: ${err}`));
      const stream = (JSON.parse(out) as { streams: ProbedStream[] }).streams[0];
      if (stream === undefined) reject(new Error(`ffprobe found no stream: ${out}`));
      else resolve(stream);
    });
    p.stdin.end(bytes);
  });
}

/** NAL unit types in an Annex-B buffer, in order. */
export function nalTypes(annexB: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      types.push((annexB[i + 3] as number) & 0x1f);
      i += 3;
    }
  }
  return types;
}
