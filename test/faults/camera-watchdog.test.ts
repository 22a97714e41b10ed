// The camera's watchdog against real faults of a real ffmpeg: an encoder frozen by SIGSTOP, a
// picture that stops changing, and a source that is unplugged (its file removed) and comes
// back. Each says so in the events stream (events.camera) and records its recovery time.
import { spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CameraStatusEvent, EVENTS_STREAM, decodeLiveFrame, readVideoHeaders, subjects, type LiveControl } from "@picket/contracts";
import { jetstream, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort, waitFor } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";
import { viewerQuery, type LogLine } from "../support/services.js";
import { startCameraStack, startStack, type Cleanups } from "../support/stack.js";
import { testBus } from "../support/bus.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A small, light picture: the faults, not the encoding, are under test. */
const LIGHT = { PICKET_CAMERA_PROFILES: "high:640x360@800", PICKET_MOTION_FPS: "0" };

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", ["-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "picket-watchdog-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Arrival times (ms) of the main picture's access units on the bus. */
function frameArrivals(nc: NatsConnection, device: string): number[] {
  const at: number[] = [];
  const sub = nc.subscribe(subjects.video(device, "high"), {
    callback: (_e, m) => {
      const meta = readVideoHeaders(m.headers, m.subject);
      if (meta.part === undefined || meta.part.index === 1) at.push(Date.now());
    },
  });
  cleanups.push(async () => sub.unsubscribe());
  return at;
}

/** The camera's status events in the events stream, oldest first. */
async function cameraEvents(nc: NatsConnection, device: string): Promise<CameraStatusEvent[]> {
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: subjects.event(device, "camera") });
  const out: CameraStatusEvent[] = [];
  const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
  for await (const m of batch) {
    out.push(CameraStatusEvent.parse(m.json()));
    if (m.info.pending === 0) break;
  }
  return out;
}

const waitForEvent = (nc: NatsConnection, device: string, what: string, match: (e: CameraStatusEvent) => boolean, timeoutMs = 20_000) =>
  waitFor(what, async () => (await cameraEvents(nc, device)).find(match), timeoutMs, 250);

const count = (logs: LogLine[], msg: string) => logs.filter((l) => l.msg === msg).length;

describe("camera watchdog", () => {
  it("restarts an encoder frozen with SIGSTOP and says so in the events stream", async () => {
    const { stack, nc } = await startCameraStack(cleanups, LIGHT);
    const camera = stack.get("camera");
    const arrivals = frameArrivals(nc, stack.device);
    await waitFor("frames", () => arrivals.length > 25, 15_000);
    const pid = (await camera.waitForMsg("encoder started")).pid as number;
    cleanups.push(async () => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    });

    const stoppedAt = Date.now();
    process.kill(pid, "SIGSTOP");
    const restarted = await camera.waitForLog((l) => l.msg === "encoder started" && l.pid !== pid, 15_000, "a new encoder");
    const newPid = restarted.pid as number;
    const startedAt = Date.now();
    const resumedAt = await waitFor("frames from the new encoder", () => arrivals.find((t) => t > startedAt), 15_000, 10);
    const event = await waitForEvent(nc, stack.device, "the restarted event", (e) => e.state === "restarted");

    expect(newPid).not.toBe(pid);
    expect(event).toMatchObject({ kind: "camera", device: stack.device, state: "restarted" });
    expect(event.reason).toMatch(/no frame for 3 s/);
    expect(camera.logs.some((l) => l.msg === "camera picture stopped; the watchdog is restarting the encoder" && /no frame/.test(String(l.reason)))).toBe(true);
    expect(count(camera.logs, "camera picture back after the watchdog restarted the encoder")).toBe(1);
    // The frozen encoder was killed, not left behind.
    expect(() => process.kill(pid, 0)).toThrow();
    // Detection (3 s without a frame) and restart: what the watchdog promises is within 5 s.
    const restartMs = startedAt - stoppedAt;
    recordReliability("camera-sigstop", {
      kind: "fault",
      fault: "the camera's ffmpeg frozen with SIGSTOP",
      recoveryMs: resumedAt - stoppedAt,
      measured: "SIGSTOP → frames on the bus again from a new encoder",
      eventsLost: 0,
      alertsDuplicated: 0,
      events: 1,
      notes: `new encoder started ${(restartMs / 1000).toFixed(1)} s after the SIGSTOP (stall limit 3 s); a \`restarted\` event (downMs ${event.downMs}) in the events stream`,
    });
  });

  it("restarts a capture whose picture stopped changing (a stuck sensor repeating its frame)", async () => {
    const dir = tempDir();
    const file = join(dir, "stuck.mkv");
    // 3 s of a moving test picture, then its last frame repeated for 30 s; lossless, so the
    // repeats decode bit-identical, as a stuck sensor's would.
    await ffmpeg(["-f", "lavfi", "-t", "3", "-i", "testsrc2=s=320x240:r=25", "-vf", "tpad=stop_mode=clone:stop_duration=30", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", file]);
    const { stack, nc } = await startCameraStack(cleanups, { ...LIGHT, PICKET_CAMERA_SOURCE: `file:${file}` });
    const camera = stack.get("camera");
    const arrivals = frameArrivals(nc, stack.device);

    const event = await waitForEvent(nc, stack.device, "the restarted event", (e) => e.state === "restarted", 30_000);
    expect(event.reason).toMatch(/has not changed for 3 s \(frozen\)/);
    expect(camera.logs.some((l) => l.msg === "camera picture stopped; the watchdog is restarting the encoder" && /frozen/.test(String(l.reason)))).toBe(true);
    // Frames kept coming all along (a frozen picture is still video); the restart made it move again.
    expect(arrivals.length).toBeGreaterThan(50);
    const downMs = event.downMs as number;
    recordReliability("camera-frozen-picture", {
      kind: "fault",
      fault: "the camera's picture frozen (frames still coming, bit-identical: a stuck sensor)",
      recoveryMs: downMs,
      measured: "last change of the picture → the picture changing again after the restart (includes the 3 s it takes to call a picture frozen)",
      eventsLost: 0,
      alertsDuplicated: 0,
      events: 1,
      notes: "file source whose picture stops changing after 3 s; stills compared byte for byte; a `restarted` event in the events stream",
    });
  });

  it("notices a source unplugged (its file removed) at once, says so once, and resumes by itself and for viewers when it is back", async () => {
    const dir = tempDir();
    const file = join(dir, "door.mp4");
    const away = join(tempDir(), "door.mp4");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", file]);
    const streamPort = await freePort();
    const stack = await startStack({ services: ["camera", "stream"], env: { ...LIGHT, PICKET_CAMERA_SOURCE: `file:${file}`, PICKET_STREAM_PORT: String(streamPort) } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(async () => nc.close());
    const camera = stack.get("camera");
    const viewer = { frames: [] as number[], statuses: [] as string[] };
    const ws = new WebSocket(`ws://127.0.0.1:${streamPort}/live/${stack.device}/high${viewerQuery(stack.device)}`);
    cleanups.push(async () => ws.terminate());
    ws.on("message", (data: Buffer, binary) => {
      if (binary) {
        decodeLiveFrame(new Uint8Array(data));
        viewer.frames.push(Date.now());
      } else {
        const c = JSON.parse(data.toString()) as LiveControl;
        if (c.type === "status") viewer.statuses.push(c.state);
      }
    });
    await waitFor("the viewer's frames", () => viewer.frames.length > 25, 20_000);

    const unpluggedAt = Date.now();
    renameSync(file, away);
    const lost = await waitForEvent(nc, stack.device, "the lost event", (e) => e.state === "lost");
    const lostLog = await camera.waitForMsg("camera source lost: no picture; retrying with backoff until it is back");
    await waitFor("the viewer told the camera is lost", () => viewer.statuses.includes("source-lost"), 15_000);
    // Unplugged for a while: several retries fail meanwhile.
    const retriesBefore = camera.logs.length;
    await new Promise((r) => setTimeout(r, 6_000));
    const outageLines = camera.logs.slice(retriesBefore).filter((l) => l.level === "warn" || l.level === "error");

    const restoredAt = Date.now();
    const framesBefore = viewer.frames.length;
    renameSync(away, file);
    const back = await waitForEvent(nc, stack.device, "the back event", (e) => e.state === "back");
    const viewerBackAt = await waitFor("frames for the viewer again", () => viewer.frames.length > framesBefore && viewer.frames[framesBefore], 20_000, 10);

    expect(lost.reason).toBe(`the source file ${file} is missing`);
    expect(lostLog.reason).toBe(`the source file ${file} is missing`);
    expect(count(camera.logs, "camera source lost: no picture; retrying with backoff until it is back")).toBe(1);
    // Retrying quietly: the outage is one line, not one per attempt.
    expect(outageLines).toEqual([]);
    expect(back.downMs).toBeGreaterThan(0);
    expect(viewer.statuses.at(-1)).toBe("live");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const events = await cameraEvents(nc, stack.device);
    expect(events.map((e) => e.state)).toEqual(["lost", "back"]);
    recordReliability("camera-unplugged", {
      kind: "fault",
      fault: "the camera unplugged and plugged back in (file source removed, restored 6 s later), a live viewer watching",
      recoveryMs: viewerBackAt - restoredAt,
      measured: "source back → the viewer's first frame",
      eventsLost: 0,
      alertsDuplicated: 0,
      events: 2,
      notes: `\`lost\` ${lost.at - unpluggedAt} ms after the unplug, said once in the log; \`back\` ${back.at - restoredAt} ms after the source returned; the viewer's socket stayed open (source-lost, then live)`,
    });
  });
});
