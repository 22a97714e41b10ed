import { Heartbeat, PartAssembler, readVideoHeaders, subjects } from "@picket/contracts";
import type { NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ffprobe, nalTypes } from "./support/media.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { startCameraStack, type Cleanups } from "./support/stack.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Unit {
  subject: string;
  seq: number;
  key: boolean;
  ptsUs: number;
  capturedUs: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Collects whole access units of every profile of `device` (parts joined per subject),
 * from each subject's first keyframe on, until `done` says stop.
 */
function collect(nc: NatsConnection, device: string, done: (bySubject: Map<string, Unit[]>) => boolean): Promise<Map<string, Unit[]>> {
  const bySubject = new Map<string, Unit[]>();
  const assemblers = new Map<string, PartAssembler>();
  return new Promise((resolve) => {
    const sub = nc.subscribe(subjects.videoAll(device), {
      callback: (_err, msg) => {
        const meta = readVideoHeaders(msg.headers, msg.subject);
        const assembler = assemblers.get(msg.subject) ?? new PartAssembler();
        assemblers.set(msg.subject, assembler);
        const data = assembler.push(meta, msg.data);
        if (data === undefined) return;
        const units = bySubject.get(msg.subject) ?? [];
        if (units.length === 0 && !meta.key) return;
        units.push({ subject: msg.subject, seq: meta.seq, key: meta.key, ptsUs: meta.ptsUs, capturedUs: meta.capturedUs, width: meta.width, height: meta.height, data });
        bySubject.set(msg.subject, units);
        if (done(bySubject)) {
          sub.unsubscribe();
          resolve(bySubject);
        }
      },
    });
  });
}

/** The next camera heartbeat whose vitals pass `match`. */
function heartbeat(nc: NatsConnection, device: string, match: (vitals: Record<string, number>) => boolean): Promise<Heartbeat> {
  return new Promise((resolve) => {
    const sub = nc.subscribe(subjects.heartbeat(device, "camera"), {
      callback: (_err, msg) => {
        const hb = Heartbeat.parse(msg.json());
        if (!match(hb.vitals)) return;
        sub.unsubscribe();
        resolve(hb);
      },
    });
  });
}

/** Checks one profile's units: its size in headers and in the decoded stream, gap-free sequence, 25 fps. */
async function expectProfile(units: Unit[], width: number, height: number): Promise<void> {
  expect(units[0]?.key).toBe(true);
  for (const u of units) expect([u.width, u.height]).toEqual([width, height]);
  const seqs = units.map((u) => u.seq);
  expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
  for (const u of units.filter((x) => x.key)) {
    const types = nalTypes(u.data);
    expect(types.indexOf(7)).toBeGreaterThanOrEqual(0);
    expect(types.indexOf(7)).toBeLessThan(types.indexOf(5));
  }
  const probed = await ffprobe(Buffer.concat(units.map((u) => u.data)), { format: "h264", countFrames: true });
  expect(probed).toMatchObject({ codec_name: "h264", width, height });
  expect(Number(probed.nb_read_frames)).toBe(units.length);
  // The configured 25 fps: exactly in the stream's own timestamps, roughly on the wall clock
  // (a loaded 2-core machine delays frames, but cannot make up for missing ones).
  const last = units.at(-1) as Unit;
  const first = units[0] as Unit;
  expect((last.ptsUs - first.ptsUs) / (units.length - 1)).toBeCloseTo(40_000, -2);
  const wallFps = ((units.length - 1) * 1e6) / (last.capturedUs - first.capturedUs);
  expect(wallFps).toBeGreaterThan(15);
  expect(wallFps).toBeLessThan(40);
}

describe("camera quality profiles", () => {
  it("publishes high 1280x720 and low 640x360 by default, each decodable at 25 fps, keyframes in step, with per-profile vitals", async () => {
    const { stack, nc } = await startCameraStack(cleanups);
    const high = subjects.video(stack.device, "high");
    const low = subjects.video(stack.device, "low");
    // Two keyframes (2 s GOP) and some: about 4 s of video per profile.
    const enough = (units: Unit[] | undefined) => units !== undefined && units.length >= 100 && units.filter((u) => u.key).length >= 2;
    const bySubject = await collect(nc, stack.device, (m) => enough(m.get(high)) && enough(m.get(low)));
    expect([...bySubject.keys()].sort()).toEqual([high, low]);

    await expectProfile(bySubject.get(high) as Unit[], 1280, 720);
    await expectProfile(bySubject.get(low) as Unit[], 640, 360);
    // Same GOP in frames from the same first frame: a viewer switching profiles finds a keyframe of the same moment.
    const keyPts = (s: string) => (bySubject.get(s) as Unit[]).filter((u) => u.key).map((u) => u.ptsUs);
    expect(keyPts(low).filter((pts) => keyPts(high).includes(pts)).length).toBeGreaterThanOrEqual(1);

    const hb = await heartbeat(nc, stack.device, (v) => (v.fps_high ?? 0) > 0 && (v.fps_low ?? 0) > 0);
    expect(hb.vitals.fps_high).toBeGreaterThan(10);
    expect(hb.vitals.fps_low).toBeGreaterThan(10);
    expect(hb.vitals.kbps_high).toBeGreaterThan(0);
    expect(hb.vitals.kbps_low).toBeGreaterThan(0);
    expect(hb.vitals.fps).toBe(hb.vitals.fps_high);

    const camera = stack.get("camera");
    const params = await camera.waitForMsg("stream parameters");
    expect(params).toMatchObject({ profile: "high", profiles: ["high", "low"], width: 1280, height: 720 });
    expect(await camera.waitForMsg("profile stream parameters")).toMatchObject({ profile: "low", width: 640, height: 360 });
    expect((await camera.waitForMsg("camera starting")).profiles).toEqual(["high 1280x720 2000k", "low 640x360 400k"]);
  });

  it("with PICKET_CAMERA_PROFILES=high publishes only on video.high", async () => {
    const { stack, nc } = await startCameraStack(cleanups, { PICKET_CAMERA_PROFILES: "high" });
    const high = subjects.video(stack.device, "high");
    const bySubject = await collect(nc, stack.device, (m) => (m.get(high)?.length ?? 0) >= 60);
    expect([...bySubject.keys()]).toEqual([high]);
    await expectProfile(bySubject.get(high) as Unit[], 1280, 720);
    const hb = await heartbeat(nc, stack.device, (v) => (v.fps_high ?? 0) > 0);
    expect(Object.keys(hb.vitals).filter((k) => /^(fps|kbps)_/.test(k)).sort()).toEqual(["fps_high", "kbps_high"]);
    expect(stack.get("camera").logs.some((l) => l.msg === "profile stream parameters")).toBe(false);
  });

  it.each([
    ["high,low:1920x1080@400", /^bad configuration: PICKET_CAMERA_PROFILES: low \(1920x1080\) is larger than the first profile high \(1280x720\)/],
    ["high,low:640x360", /^bad configuration: PICKET_CAMERA_PROFILES \(got "high,low:640x360"\): "low:640x360" is not name:WIDTHxHEIGHT@kbps/],
    ["high,high:640x360@400", /^bad configuration: PICKET_CAMERA_PROFILES: profile name "high" appears twice/],
  ])("refuses PICKET_CAMERA_PROFILES=%s at start with one line naming the variable", async (value, message) => {
    const camera = new ServiceProcess("camera", { ...baseEnv("nats://127.0.0.1:1", "dev-badprofiles"), PICKET_CAMERA_PROFILES: value });
    cleanups.push(() => camera.stop());
    expect((await camera.exited).code).toBe(1);
    const fatal = camera.logs.filter((l) => l.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(message);
  });
});
