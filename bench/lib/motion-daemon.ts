// Motion (Debian's `motion` package, 4.5) as a benchmark opponent: one camera read from a
// network camera URL, its MJPEG stream served on loopback. Motion detection is paused and
// every output (pictures, movies, snapshots, overlays, web control) is off, so what it does is
// what a live viewer costs it: open the camera, decode, JPEG-encode the stream, send it.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";

export interface MotionOptions {
  dir: string;
  url: string;
  width: number;
  height: number;
  fps: number;
  streamPort: number;
  /** stream_quality, 1–100 (JPEG quality). */
  quality: number;
}

export interface MotionDaemon {
  pid: number;
  streamUrl: string;
  config: string;
  stop(): Promise<void>;
}

export function motionConfig(o: MotionOptions): string {
  return [
    "daemon off",
    "setup_mode off",
    "log_level 5",
    `log_file ${join(o.dir, "motion.log")}`,
    `target_dir ${o.dir}`,
    `netcam_url ${o.url}`,
    "netcam_params rtsp_transport=tcp",
    `width ${o.width}`,
    `height ${o.height}`,
    `framerate ${o.fps}`,
    // No overlays: the picture is the camera's.
    "text_left",
    "text_right",
    "text_changes off",
    "locate_motion_mode off",
    // Detection paused, nothing written to disk.
    "pause on",
    "emulate_motion off",
    "picture_output off",
    "movie_output off",
    "snapshot_interval 0",
    "webcontrol_port 0",
    `stream_port ${o.streamPort}`,
    "stream_localhost on",
    "stream_auth_method 0",
    `stream_quality ${o.quality}`,
    `stream_maxrate ${o.fps}`,
    "stream_motion off",
    "stream_grey off",
    "",
  ].join("\n");
}

/** Starts Motion and resolves once its stream sends a first JPEG (it has the camera). */
export async function startMotion(o: MotionOptions): Promise<MotionDaemon> {
  mkdirSync(o.dir, { recursive: true });
  const config = motionConfig(o);
  const file = join(o.dir, "motion.conf");
  writeFileSync(file, config);
  const child: ChildProcess = spawn("motion", ["-n", "-c", file], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const streamUrl = `http://127.0.0.1:${o.streamPort}/`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`motion exited (${child.exitCode}): ${err}`);
    if (await firstJpeg(streamUrl)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`motion's stream sent no picture in 20 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { pid: child.pid as number, streamUrl, config, stop };
}

/** True once the stream answers with the start of a JPEG. */
function firstJpeg(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let seen = Buffer.alloc(0);
      res.on("data", (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        if (seen.includes(Buffer.from([0xff, 0xd8, 0xff]))) {
          req.destroy();
          resolve(true);
        }
      });
      res.on("end", () => resolve(false));
      res.on("error", () => resolve(false));
    });
    req.setTimeout(2_000, () => {
      req.destroy();
      resolve(false);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}
