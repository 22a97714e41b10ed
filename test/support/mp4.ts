import { launchChromium } from "./chromium.js";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** The top-level boxes of an MP4 file, in order, with their offsets. */
export function topLevelBoxes(mp4: Uint8Array): { type: string; offset: number; size: number }[] {
  const view = new DataView(mp4.buffer, mp4.byteOffset, mp4.byteLength);
  const boxes: { type: string; offset: number; size: number }[] = [];
  let off = 0;
  while (off + 8 <= mp4.length) {
    let size = view.getUint32(off);
    const type = String.fromCharCode(...mp4.subarray(off + 4, off + 8));
    if (size === 1) size = Number(view.getBigUint64(off + 8));
    if (size === 0) size = mp4.length - off;
    if (size < 8) break;
    boxes.push({ type, offset: off, size });
    off += size;
  }
  return boxes;
}

export interface Mp4Probe {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  durationS: number;
}

/** The real ffprobe's view of an MP4 (from a file, since an MP4's index may sit at the end). */
export async function probeMp4(mp4: Uint8Array): Promise<Mp4Probe> {
  const dir = await mkdtemp(join(tmpdir(), "picket-probe-"));
  try {
    const file = join(dir, "clip.mp4");
    await writeFile(file, mp4);
    const { stdout } = await promisify(execFile)("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "format=duration:stream=codec_name,pix_fmt,width,height,nb_read_frames", "-of", "json", file]);
    const out = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string; pix_fmt: string; width: number; height: number; nb_read_frames: string }[] };
    const s = out.streams[0];
    if (s === undefined) throw new Error(`ffprobe found no stream: ${stdout}`);
    return { codec: s.codec_name, pixFmt: s.pix_fmt, width: s.width, height: s.height, frames: Number(s.nb_read_frames), durationS: Number(out.format.duration) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Serves one MP4 (with byte ranges, as a browser asks for them) and a page that plays it, on 127.0.0.1. */
export async function serveClip(mp4: Uint8Array): Promise<{ url: string; close: () => Promise<void> }> {
  const page = `<!doctype html><video id="v" src="/clip.mp4" muted playsinline preload="auto"></video>`;
  const server: Server = createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(page);
      return;
    }
    if (req.url !== "/clip.mp4") {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range === null) {
      res.writeHead(200, { "content-type": "video/mp4", "accept-ranges": "bytes", "content-length": mp4.length }).end(mp4);
      return;
    }
    const start = Number(range[1]);
    const end = range[2] === "" ? mp4.length - 1 : Math.min(Number(range[2]), mp4.length - 1);
    res
      .writeHead(206, { "content-type": "video/mp4", "accept-ranges": "bytes", "content-range": `bytes ${start}-${end}/${mp4.length}`, "content-length": end - start + 1 })
      .end(mp4.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Playback {
  readyState: number;
  duration: number;
  width: number;
  height: number;
  /** Frames presented once playing. */
  presented: number;
  /** Seconds the playhead moved in 0.6 s of playing. */
  advanced: number;
}

/** Plays an MP4 in headless Chromium from a loopback server: loads, renders frames, advances. */
export async function playInChromium(mp4: Uint8Array): Promise<Playback> {
  const server = await serveClip(mp4);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    return (await page.evaluate(`(async () => {
      const v = document.getElementById("v");
      await new Promise((resolve, reject) => {
        if (v.readyState >= 2) return resolve();
        v.addEventListener("loadeddata", () => resolve(), { once: true });
        v.addEventListener("error", () => reject(new Error("video error " + (v.error && v.error.code) + ": " + (v.error && v.error.message))), { once: true });
      });
      const rendered = new Promise((resolve) => v.requestVideoFrameCallback((_now, meta) => resolve(meta.presentedFrames)));
      await v.play();
      const presented = await rendered;
      const t1 = v.currentTime;
      await new Promise((r) => setTimeout(r, 600));
      return { readyState: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight, presented, advanced: v.currentTime - t1 };
    })()`)) as Playback;
  } finally {
    await browser.close();
    await server.close();
  }
}
