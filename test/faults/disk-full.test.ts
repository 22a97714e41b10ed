// The data volume full: nats-server keeps its JetStream store on a small tmpfs, the camera asks
// for the default media quota (1 GB) that cannot fit, and alarms with photos and clips keep
// coming until the media store is full several times over. Nothing may exit, every alert must
// reach Telegram with its photo, and media must go oldest first within the quota.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVENTS_STREAM, MEDIA_BUCKET, MediaEvent, subjects } from "@picket/contracts";
import { Objm } from "@nats-io/obj";
import { jetstream, jetstreamManager, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED, QUICK_PRESENCE, TOKEN, ok } from "../support/bot.js";
import { testBus } from "../support/bus.js";
import { freePort, waitFor } from "../support/ports.js";
import { recordReliability } from "../support/reliability.js";
import { ServiceProcess, baseEnv } from "../support/services.js";
import { READY, type Cleanups } from "../support/stack.js";
import { startTelegramApi } from "../support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const VOLUME_MB = 48;
const ALARMS = 10;

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", ["-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

/** A tmpfs of `mb` MB mounted on a new folder (the test runs as root), unmounted by the cleanups. */
function smallVolume(mb: number): string {
  const dir = mkdtempSync(join(tmpdir(), "picket-volume-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${mb}m`, "tmpfs", dir]);
  cleanups.push(async () => {
    execFileSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** nats-server with its JetStream store on `volume` (max_file_store left to the server: 75% of the free space). */
async function natsOn(volume: string): Promise<{ url: string; proc: ChildProcess; log: () => string }> {
  const port = await freePort();
  const conf = join(mkdtempSync(join(tmpdir(), "picket-nats-conf-")), "nats.conf");
  writeFileSync(conf, `jetstream { store_dir: "${volume}" }\n`);
  const proc = spawn("nats-server", ["-c", conf, "-a", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  cleanups.push(async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    // A server that does not stop in time is killed: the volume must be unmounted after it.
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  });
  await waitFor("nats-server ready", () => log.includes("Server is ready"), 10_000);
  return { url: `nats://127.0.0.1:${port}`, proc, log: () => log };
}

async function mediaEvents(nc: NatsConnection, device: string): Promise<MediaEvent[]> {
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: subjects.event(device, "media") });
  const out: MediaEvent[] = [];
  const batch = await consumer.fetch({ max_messages: 1_000, expires: 1_000 });
  for await (const m of batch) {
    out.push(MediaEvent.parse(m.json()));
    if (m.info.pending === 0) break;
  }
  return out;
}

describe("data volume full", () => {
  it("keeps the media within a quota that fits the volume, evicts the oldest first, and every alert still goes out with its photo", async () => {
    const volume = smallVolume(VOLUME_MB);
    const work = mkdtempSync(join(tmpdir(), "picket-disk-full-"));
    cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
    // Noise encodes big: each 4 s clip is a few MB, so a handful fill the quota.
    const noise = join(work, "noise.mp4");
    await ffmpeg(["-f", "lavfi", "-t", "4", "-i", "testsrc2=s=640x360:r=25,noise=alls=40:allf=t+u", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-pix_fmt", "yuv420p", noise]);
    const nats = await natsOn(volume);
    const device = `dev-${Math.random().toString(36).slice(2, 8)}`;
    const double = await startTelegramApi(TOKEN);
    cleanups.push(() => double.close());
    const env = {
      ...baseEnv(nats.url, device),
      ...QUICK_PRESENCE,
      PICKET_TELEGRAM_API_ROOT: double.url,
      PICKET_TELEGRAM_CHATS: ALLOWED.join(","),
      PICKET_TELEGRAM_TOKEN: TOKEN,
      PICKET_CAMERA_SOURCE: `file:${noise}`,
      PICKET_CAMERA_PROFILES: "high:640x360@8000",
      PICKET_MOTION_FPS: "0",
      PICKET_CLIP_PRE_S: "2",
      PICKET_CLIP_POST_S: "2",
      // PICKET_MEDIA_MAX_MB left at its default, 1 GB: far more than this volume holds.
    };
    const services: Record<string, ServiceProcess> = {};
    const exits: string[] = [];
    for (const name of ["camera", "pir", "bot"] as const) {
      const proc = new ServiceProcess(name, env);
      services[name] = proc;
      void proc.exited.then(({ code, signal }) => exits.push(`${name} (${signal ?? code})`));
      cleanups.push(() => proc.stop());
      await proc.waitForLog((l) => READY[name].test(l.msg), 30_000, `${name} ready`);
    }
    const camera = services.camera as ServiceProcess;
    const pir = services.pir as ServiceProcess;
    const nc = await testBus(nats.url);
    cleanups.push(async () => nc.close());

    // The quota that fits: the camera said so and did not exit.
    const shrunk = await camera.waitForMsg(/^the media quota does not fit JetStream's storage/);
    expect(shrunk.askedMb).toBe(1024);
    const quotaBytes = (shrunk.usingMb as number) * 1048576;
    const storage = statfsSync(volume);
    expect(quotaBytes).toBeLessThan(storage.blocks * storage.bsize);

    const startedAt = Date.now();
    const started = () => pir.logs.filter((l) => l.msg === "presence started").length;
    const ended = () => pir.logs.filter((l) => l.msg === "presence ended").length;
    for (let i = 0; i < ALARMS; i++) {
      await waitFor("the previous presence to end", () => ended() >= started() || undefined, 20_000);
      await nc.request(subjects.pirInject(device), JSON.stringify({ pulseMs: 300 }), { timeout: 5_000 });
      await waitFor("the presence", () => started() > i || undefined, 10_000);
    }
    const photos = await double.waitForCalls("sendPhoto", ALARMS * ALLOWED.length, 60_000, ok);
    // Every event's snapshot and clip is accounted for: stored, or missing with a reason.
    const media = await waitFor("every event's media", async () => {
      const all = await mediaEvents(nc, device);
      return all.length >= ALARMS * 2 ? all : undefined;
    }, 60_000, 500);
    const deliveredAt = Date.now();

    const os = await new Objm(nc).open(MEDIA_BUCKET);
    const status = await os.status();
    const kept = (await os.list()).filter((o) => !o.deleted).map((o) => o.name);
    // In the order they were stored: puts run one at a time, each recorded once stored.
    const stored = media.filter((m) => m.object !== undefined);
    const missing = media.filter((m) => m.error !== undefined);
    const evictionLogs = camera.logs.filter((l) => l.msg === "media store full: deleted the oldest snapshots and clips to make room");

    expect(exits).toEqual([]);
    // Every alert reached both chats with a photo.
    expect(photos.filter(ok)).toHaveLength(ALARMS * ALLOWED.length);
    // More was stored than the quota holds: the oldest went, the newest stayed, within the quota.
    expect(stored.reduce((n, m) => n + (m.bytes ?? 0), 0)).toBeGreaterThan(quotaBytes);
    expect(evictionLogs.length).toBeGreaterThan(0);
    expect(status.size).toBeLessThanOrEqual(quotaBytes);
    const newestClip = stored.filter((m) => m.media === "clip").at(-1);
    expect(kept).toContain(newestClip?.object);
    const firstSnapshot = stored.find((m) => m.media === "snapshot");
    expect(kept).not.toContain(firstSnapshot?.object);
    // Eviction is oldest first: what is kept is the newest stored objects, with no hole.
    const order = stored.map((m) => m.object as string).filter((name) => name !== undefined);
    const keptIdx = order.map((name, i) => (kept.includes(name) ? i : -1)).filter((i) => i >= 0);
    expect(keptIdx).toEqual(keptIdx.map((_, k) => (keptIdx[0] as number) + k));
    // Missing media say why.
    for (const m of missing) expect(m.error).toMatch(/\S/);
    // The bus itself is well: the events stream still takes writes.
    await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM);

    const bot = services.bot as ServiceProcess;
    const worstAlertMs = Math.max(...bot.logs.filter((l) => l.msg === "alert delivered").map((l) => Number(l.ageMs)));
    recordReliability("disk-full", {
      kind: "fault",
      fault: `the data volume full: JetStream on a ${VOLUME_MB} MB volume, the media quota asked for (1 GB) not fitting, ${ALARMS} alarms with photos and clips`,
      recoveryMs: worstAlertMs,
      measured: "trigger → alert with its photo delivered, the worst of the run (there is no outage to recover from: the store evicts and keeps working)",
      eventsLost: ALARMS - photos.length / ALLOWED.length,
      alertsDuplicated: Math.max(0, photos.length - ALARMS * ALLOWED.length),
      events: ALARMS,
      notes: `quota shrunk to ${shrunk.usingMb} MB (JetStream could reserve ${shrunk.reservableMb} MB); ${(stored.reduce((n, m) => n + (m.bytes ?? 0), 0) / 1048576).toFixed(1)} MB of media stored, ${order.length - kept.length} oldest objects evicted in ${evictionLogs.length} rounds, ${missing.length} media missing (with a reason); no service exited; all alarms and their media handled ${((deliveredAt - startedAt) / 1000).toFixed(1)} s after the first`,
    });
  });
});
