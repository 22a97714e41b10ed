import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Heartbeat, readVideoHeaders, subjects, type VideoMeta } from "@picket/contracts";
import type { NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { testBus } from "./support/bus.js";
import { ffprobe } from "./support/media.js";
import { startNats } from "./support/nats.js";
import { freePort, waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { startStack } from "./support/stack.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

function units(nc: NatsConnection, device: string, n: number): Promise<(VideoMeta & { data: Uint8Array })[]> {
  return new Promise((resolve) => {
    const got: (VideoMeta & { data: Uint8Array })[] = [];
    const sub = nc.subscribe(subjects.video(device, "high"), {
      callback: (_e, msg) => {
        got.push({ ...readVideoHeaders(msg.headers, msg.subject), data: msg.data });
        if (got.length >= n) {
          sub.unsubscribe();
          resolve(got);
        }
      },
    });
  });
}

async function snapshot(nc: NatsConnection, device: string) {
  const reply = await nc.request(subjects.snapshot(device), new Uint8Array(0), { timeout: 5_000 });
  return ffprobe(Buffer.from(reply.data));
}

describe("camera sources", () => {
  it("file: loops a video file, scaled to the configured size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picket-file-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "door clip.mp4");
    // Two seconds of video: 100 frames can only come from looping it.
    await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", file]);
    const stack = await startStack({ services: ["camera"], env: { PICKET_CAMERA_SOURCE: `file:${file}`, PICKET_CAMERA_WIDTH: "640", PICKET_CAMERA_HEIGHT: "360" } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());

    const got = await units(nc, stack.device, 100);
    expect(got[0]).toMatchObject({ width: 640, height: 360 });
    expect(got.filter((u) => u.key).length).toBeGreaterThanOrEqual(2);
    expect(await snapshot(nc, stack.device)).toMatchObject({ codec_name: "mjpeg", width: 640, height: 360 });
  });

  it("http: passes an IP camera's H.264 through without re-encoding, and makes stills from it", async () => {
    const port = await freePort();
    // A stand-in IP camera: ffmpeg serving High-profile H.264 in MPEG-TS over HTTP.
    const ipcam = spawn("ffmpeg", [
      "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25",
      "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
      "-f", "mpegts", "-listen", "1", `http://127.0.0.1:${port}/live.ts`,
    ], { stdio: "ignore" });
    cleanups.push(() => void ipcam.kill("SIGKILL"));
    const stack = await startStack({ services: ["camera"], env: { PICKET_CAMERA_SOURCE: `http://127.0.0.1:${port}/live.ts` } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());

    const got = await units(nc, stack.device, 30);
    // High profile (0x64) can only be the camera's own stream: Picket's encoder makes baseline.
    expect(got[0]?.codec).toMatch(/^avc1\.64/);
    expect(got[0]).toMatchObject({ width: 640, height: 360 });
    const fromKey = got.slice(got.findIndex((u) => u.key));
    const probed = await ffprobe(Buffer.concat(fromKey.map((u) => u.data)), { format: "h264", countFrames: true });
    expect(probed).toMatchObject({ codec_name: "h264", width: 640, height: 360 });
    expect(Number(probed.nb_read_frames)).toBe(fromKey.length);
    expect(await snapshot(nc, stack.device)).toMatchObject({ codec_name: "mjpeg", width: 640, height: 360 });
  });

  it("a camera whose source is gone says its motion detection is not running, so presence falls back to the PIR", async () => {
    const nats = await startNats();
    cleanups.push(() => nats.dispose());
    const dead = `http://127.0.0.1:${await freePort()}/stream`;
    const camera = new ServiceProcess("camera", { ...baseEnv(nats.url, "dead-cam"), PICKET_CAMERA_SOURCE: dead });
    cleanups.push(() => camera.stop());
    const nc = await testBus(nats.url);
    cleanups.push(() => nc.close());
    const beats: Heartbeat[] = [];
    nc.subscribe(subjects.heartbeat("dead-cam", "camera"), { callback: (_e, m) => beats.push(Heartbeat.parse(m.json())) });
    const beat = await waitFor("a heartbeat after an encoder restart", () => beats.find((b) => (b.vitals.encoderRestarts ?? 0) >= 1), 30_000);
    expect(beat.vitals.motionFps).toBe(0);
    expect(beat.vitals.capturing).toBe(1);
  });

  it("refuses a bad source at start with one line naming the variable", async () => {
    await expect(startStack({ services: ["camera"], env: { PICKET_CAMERA_SOURCE: "ftp://cam/stream" } })).rejects.toThrow(/PICKET_CAMERA_SOURCE.*unknown source/s);
  });
});
