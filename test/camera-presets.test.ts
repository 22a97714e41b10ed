import { PartAssembler, QualityPresets, decodeLiveFrame, readVideoHeaders, settingsKeys, subjects, type LiveControl } from "@picket/contracts";
import { openSettings, type KV, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { NalType, nalType, parseSps, splitAnnexB } from "../services/camera/src/h264.js";
import { testBus } from "./support/bus.js";
import { ffprobe } from "./support/media.js";
import { startNats } from "./support/nats.js";
import { freePort, waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv, viewerQuery, type LogLine } from "./support/services.js";
import { READY, startCameraStack, startStack, type Cleanups } from "./support/stack.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Two presets of other sizes, rates and names than the test config's high 1280x720 + low 640x360 at 25 fps. */
const PRESETS: QualityPresets = {
  presets: [
    { name: "high", width: 640, height: 360, bitrateKbps: 800, fps: 10 },
    { name: "tiny", width: 320, height: 180, bitrateKbps: 200, fps: 5 },
  ],
  phone: "tiny",
  desktop: "high",
};

/** What the camera answers for its configured profiles (PICKET_CAMERA_PROFILES unset, 1280x720 at 25 fps). */
const CONFIGURED: QualityPresets = {
  presets: [
    { name: "high", width: 1280, height: 720, bitrateKbps: 2000, fps: 25 },
    { name: "low", width: 640, height: 360, bitrateKbps: 400, fps: 25 },
  ],
  phone: "low",
  desktop: "high",
};

interface Unit {
  key: boolean;
  ptsUs: number;
  capturedUs: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Whole access units of every profile of `device`, per subject, each from its first keyframe,
 * until each of the `profiles` has `ms` of video (or 8 s more have passed).
 */
function collectFor(nc: NatsConnection, device: string, profiles: string[], ms: number): Promise<Map<string, Unit[]>> {
  const bySubject = new Map<string, Unit[]>();
  const assemblers = new Map<string, PartAssembler>();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(bySubject);
    };
    const timer = setTimeout(done, ms + 8_000);
    const sub = nc.subscribe(subjects.videoAll(device), {
      callback: (_err, msg) => {
        const meta = readVideoHeaders(msg.headers, msg.subject);
        const assembler = assemblers.get(msg.subject) ?? new PartAssembler();
        assemblers.set(msg.subject, assembler);
        const data = assembler.push(meta, msg.data);
        if (data === undefined) return;
        const units = bySubject.get(msg.subject) ?? [];
        if (units.length === 0 && !meta.key) return;
        units.push({ key: meta.key, ptsUs: meta.ptsUs, capturedUs: meta.capturedUs, width: meta.width, height: meta.height, data });
        bySubject.set(msg.subject, units);
        if (profiles.every((p) => spanMs(bySubject.get(subjects.video(device, p))) >= ms)) done();
      },
    });
  });
}

const spanMs = (units: Unit[] | undefined) => (units === undefined || units.length === 0 ? 0 : ((units.at(-1) as Unit).capturedUs - (units[0] as Unit).capturedUs) / 1000);

/**
 * One profile's video: its size in the headers, in its SPS and as decoded, and its rate, exact
 * in the encoder's timestamps and roughly on the wall clock.
 */
async function expectVideo(units: Unit[] | undefined, want: { width: number; height: number; fps: number }): Promise<void> {
  expect(units, "video on this subject").toBeDefined();
  const list = units as Unit[];
  expect(list.length).toBeGreaterThan(want.fps);
  for (const u of list) expect([u.width, u.height]).toEqual([want.width, want.height]);
  const sps = splitAnnexB((list[0] as Unit).data).find((n) => nalType(n) === NalType.sps);
  expect(sps, "SPS in front of the keyframe").toBeDefined();
  expect(parseSps(sps as Uint8Array)).toMatchObject({ width: want.width, height: want.height });
  expect(await ffprobe(Buffer.concat(list.map((u) => u.data)), { format: "h264" })).toMatchObject({ width: want.width, height: want.height });
  const steps = list.slice(1).map((u, i) => u.ptsUs - (list[i] as Unit).ptsUs).sort((a, b) => a - b);
  expect(steps[steps.length >> 1]).toBeCloseTo(1e6 / want.fps, -3);
  const first = list[0] as Unit;
  const last = list.at(-1) as Unit;
  const wallFps = ((list.length - 1) * 1e6) / (last.capturedUs - first.capturedUs);
  expect(wallFps).toBeGreaterThan(want.fps * 0.7);
  expect(wallFps).toBeLessThan(want.fps * 1.3);
}

async function askPresets(nc: NatsConnection, device: string): Promise<{ presets: unknown; source: string | undefined }> {
  const reply = await nc.request(subjects.cameraPresets(device), "", { timeout: 3_000 });
  return { presets: reply.json(), source: reply.headers?.get("Picket-Presets-Source") };
}

/** The first log line past `mark` (an index into the logs) that passes `match`. */
const logAfter = (proc: ServiceProcess, mark: number, match: (l: LogLine) => boolean, what: string) =>
  proc.waitForLog((l) => proc.logs.indexOf(l) >= mark && match(l), 20_000, what);

const encoderStarts = (camera: ServiceProcess) => camera.logs.filter((l) => l.msg === "encoder started").length;

describe("quality presets from the settings bucket", () => {
  it("replace the camera's profiles live, are answered on camera.presets, and go back to the config's when deleted", async () => {
    const { stack, nc } = await startCameraStack(cleanups);
    const camera = stack.get("camera");
    const d = stack.device;
    expect(await askPresets(nc, d)).toEqual({ presets: CONFIGURED, source: "config" });
    const kv = await openSettings(nc);

    let mark = camera.logs.length;
    await kv.put(settingsKeys.presets(d), JSON.stringify(PRESETS));
    const changed = await logAfter(camera, mark, (l) => l.msg === "quality presets changed; restarting the encoder", "the change");
    expect(changed).toMatchObject({ source: "settings", from: ["high 1280x720 2000k 25fps", "low 640x360 400k 25fps"], to: ["high 640x360 800k 10fps", "tiny 320x180 200k 5fps"] });
    await logAfter(camera, mark, (l) => l.msg === "stream parameters" && l.width === 640, "the new encoder");
    expect(await askPresets(nc, d)).toEqual({ presets: PRESETS, source: "settings" });

    const video = await collectFor(nc, d, ["high", "tiny"], 3_000);
    expect([...video.keys()].sort()).toEqual([subjects.video(d, "high"), subjects.video(d, "tiny")]);
    await expectVideo(video.get(subjects.video(d, "high")), { width: 640, height: 360, fps: 10 });
    await expectVideo(video.get(subjects.video(d, "tiny")), { width: 320, height: 180, fps: 5 });
    // Keyframes every 2 s in both, at the same moments.
    const keyPts = (s: string) => (video.get(subjects.video(d, s)) as Unit[]).filter((u) => u.key).map((u) => u.ptsUs);
    expect(keyPts("tiny").filter((pts) => keyPts("high").includes(pts)).length).toBeGreaterThanOrEqual(1);
    expect(camera.logs.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);

    mark = camera.logs.length;
    await kv.delete(settingsKeys.presets(d));
    expect(await logAfter(camera, mark, (l) => l.msg === "quality presets changed; restarting the encoder", "the change back")).toMatchObject({ source: "config", to: ["high 1280x720 2000k 25fps", "low 640x360 400k 25fps"] });
    await logAfter(camera, mark, (l) => l.msg === "stream parameters" && l.width === 1280, "the configured encoder");
    expect(await askPresets(nc, d)).toEqual({ presets: CONFIGURED, source: "config" });
    const back = await collectFor(nc, d, ["high", "low"], 2_000);
    expect([...back.keys()].sort()).toEqual([subjects.video(d, "high"), subjects.video(d, "low")]);
    await expectVideo(back.get(subjects.video(d, "high")), { width: 1280, height: 720, fps: 25 });
    await expectVideo(back.get(subjects.video(d, "low")), { width: 640, height: 360, fps: 25 });
  });

  it("ignores an invalid value with a warning: the same encoder keeps running, video unchanged", async () => {
    const { stack, nc } = await startCameraStack(cleanups);
    const camera = stack.get("camera");
    const d = stack.device;
    const kv = await openSettings(nc);
    const starts = encoderStarts(camera);
    const mark = camera.logs.length;
    // An odd width: H.264 cannot encode it, and the contract says so.
    const bad = { ...PRESETS, presets: [{ ...PRESETS.presets[0], width: 641 }] };
    expect(QualityPresets.safeParse(bad).success).toBe(false);
    await kv.put(settingsKeys.presets(d), JSON.stringify(bad));
    const warning = await logAfter(camera, mark, (l) => l.msg === "ignoring a bad setting; the last good value stays", "the warning");
    expect(warning).toMatchObject({ level: "warn", key: settingsKeys.presets(d) });
    expect(warning.reason).toMatch(/width must be even/);

    const video = await collectFor(nc, d, ["high", "low"], 2_000);
    expect([...video.keys()].sort()).toEqual([subjects.video(d, "high"), subjects.video(d, "low")]);
    await expectVideo(video.get(subjects.video(d, "high")), { width: 1280, height: 720, fps: 25 });
    expect(encoderStarts(camera)).toBe(starts);
    expect(camera.logs.some((l) => l.msg === "quality presets changed; restarting the encoder")).toBe(false);
    expect(await askPresets(nc, d)).toEqual({ presets: CONFIGURED, source: "config" });
  });

  it("starts a camera with presets already stored on them, with one encoder start", async () => {
    const nats = await startNats();
    cleanups.push(() => nats.dispose());
    const nc = await testBus(nats.url);
    cleanups.push(() => nc.close());
    const device = `dev-${Math.random().toString(36).slice(2, 8)}`;
    const kv: KV = await openSettings(nc);
    await kv.put(settingsKeys.presets(device), JSON.stringify(PRESETS));
    const camera = new ServiceProcess("camera", baseEnv(nats.url, device));
    cleanups.push(() => camera.stop());
    await camera.waitForLog((l) => READY.camera.test(l.msg), 20_000, "camera ready");
    expect((await camera.waitForMsg("camera starting")).profiles).toEqual(["high 640x360 800k", "tiny 320x180 200k"]);
    const video = await collectFor(nc, device, ["high", "tiny"], 2_000);
    expect([...video.keys()].sort()).toEqual([subjects.video(device, "high"), subjects.video(device, "tiny")]);
    await expectVideo(video.get(subjects.video(device, "high")), { width: 640, height: 360, fps: 10 });
    expect(encoderStarts(camera)).toBe(1);
    expect(await askPresets(nc, device)).toEqual({ presets: PRESETS, source: "settings" });
  });
});

type Frame = ReturnType<typeof decodeLiveFrame>;
interface RawViewer {
  ws: WebSocket;
  events: ({ control: LiveControl } | { frame: Frame })[];
  closed: boolean;
}

function viewer(url: string, userAgent: string): Promise<RawViewer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { "user-agent": userAgent } });
    const v: RawViewer = { ws, events: [], closed: false };
    ws.on("message", (data: Buffer, isBinary) => v.events.push(isBinary ? { frame: decodeLiveFrame(new Uint8Array(data)) } : { control: JSON.parse(data.toString()) as LiveControl }));
    ws.once("close", () => (v.closed = true));
    ws.once("open", () => resolve(v));
    ws.once("error", reject);
    cleanups.push(async () => ws.terminate());
  });
}

const infos = (v: RawViewer) => v.events.flatMap((e) => ("control" in e && e.control.type === "info" ? [e.control] : []));
/** Frames after the last info message: those of the size it names. */
const framesSinceInfo = (v: RawViewer) => v.events.slice(v.events.findLastIndex((e) => "control" in e && e.control.type === "info") + 1).filter((e) => "frame" in e).length;

const PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36";
const DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36";

describe("quality presets and the stream's auto viewers", () => {
  it("moves auto viewers to the new presets, tells viewers of a removed profile, and drops no socket", async () => {
    const port = await freePort();
    const stack = await startStack({ services: ["camera", "stream"], env: { PICKET_STREAM_PORT: String(port), PICKET_STREAM_HOST: "127.0.0.1" } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const d = stack.device;
    const url = (profile: string) => `ws://127.0.0.1:${port}/live/${d}/${profile}${viewerQuery(d)}`;
    const desktop = await viewer(url("auto"), DESKTOP);
    const phone = await viewer(url("auto"), PHONE);
    const low = await viewer(url("low"), DESKTOP);
    await waitFor("frames for all three", () => [desktop, phone, low].every((v) => framesSinceInfo(v) > 5) || undefined, 20_000);
    expect(infos(desktop).at(-1)).toMatchObject({ profile: "high", width: 1280, height: 720 });
    expect(infos(phone).at(-1)).toMatchObject({ profile: "low", width: 640, height: 360 });

    const kv = await openSettings(nc);
    const stream = stack.get("stream");
    const mark = stream.logs.length;
    await kv.put(settingsKeys.presets(d), JSON.stringify(PRESETS));
    // The desktop stays on high, whose picture is now 640x360; the phone moves to tiny.
    await waitFor("the desktop's new size", () => (infos(desktop).at(-1)?.width === 640 && framesSinceInfo(desktop) > 5) || undefined, 20_000);
    expect(infos(desktop).at(-1)).toMatchObject({ profile: "high", width: 640, height: 360 });
    await waitFor("the phone on tiny", () => (infos(phone).at(-1)?.profile === "tiny" && framesSinceInfo(phone) > 3) || undefined, 20_000);
    expect(infos(phone).at(-1)).toMatchObject({ profile: "tiny", width: 320, height: 180 });
    await logAfter(stream, mark, (l) => l.msg === "auto profile changed" && l.from === "low" && l.to === "tiny" && l.why === "presets changed", "the phone's move");
    // The viewer of low, which the presets removed, is told why and keeps its socket.
    await waitFor("low's viewer told", () => low.events.some((e) => "control" in e && e.control.type === "status" && e.control.state === "source-lost" && /no longer include low/.test(e.control.detail ?? "")) || undefined, 10_000);

    const lowFrames = low.events.filter((e) => "frame" in e).length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(low.events.filter((e) => "frame" in e).length).toBe(lowFrames);
    for (const v of [desktop, phone, low]) {
      expect(v.closed).toBe(false);
      expect(v.ws.readyState).toBe(WebSocket.OPEN);
    }

    // Deleted: the configured profiles and ladder again; low's viewer gets video back.
    await kv.delete(settingsKeys.presets(d));
    await waitFor("the phone back on low", () => (infos(phone).at(-1)?.profile === "low" && framesSinceInfo(phone) > 3) || undefined, 20_000);
    await waitFor("the desktop back at 1280x720", () => (infos(desktop).at(-1)?.width === 1280 && framesSinceInfo(desktop) > 3) || undefined, 20_000);
    await waitFor("low's video again", () => (infos(low).at(-1)?.width === 640 && framesSinceInfo(low) > 3) || undefined, 20_000);
    for (const v of [desktop, phone, low]) expect(v.closed).toBe(false);
  });
});
