// Fan-out: VIEWERS websocket viewers of one 2 Mbit/s 1280x720@25 stream, all connected to the
// stream service directly (/live/<device>/high), for WINDOW_S. Reports the stream service's CPU
// (share of one core, from /proc/<pid>/stat) and RSS, and each frame's latency at its viewer
// (arrival wall clock − the camera's capture stamp in the live-frame header).
//
// The camera's test scene is flat colour and encodes to ~90 kbit/s whatever the bitrate
// setting, so the source here is a few seconds of generated noise looped by the camera's file
// source and re-encoded by it at 2,000 kbit/s (PICKET_CAMERA_PROFILES=high:1280x720@2000): a
// real 2 Mbit/s stream.
// The viewers run in CLIENT_THREADS worker threads of this process, so that their own
// receive work is spread over threads and the main thread only samples /proc. They share the
// machine (2 cores here) with the stream service, nats-server and the camera's encoder: their
// CPU is reported beside the stream service's.
// Run: npm run bench -- fanout   (or node --import tsx bench/fanout.ts)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { readVideoHeaders, subjects } from "@picket/contracts";
import { connectBus, createLogger } from "@picket/runtime";
import { metricTotal } from "../test/support/bus.js";
import { freePort } from "../test/support/ports.js";
import { viewerQuery } from "../test/support/services.js";
import { startStack } from "../test/support/stack.js";
import { childrenOf, cpuMs, findNatsServer, machineBusyMs, memory } from "./lib/proc.js";
import { percentile, report, summary } from "./lib/result.js";

const VIEWERS = Number(process.env.PICKET_BENCH_VIEWERS ?? 200);
const CLIENT_THREADS = Number(process.env.PICKET_BENCH_CLIENT_THREADS ?? 2);
const WINDOW_S = Number(process.env.PICKET_BENCH_WINDOW_S ?? 30);
const BITRATE_KBPS = 2000;
const WARMUP_MS = 3_000;
/** After the window: frames captured in it still on their way. */
const GRACE_MS = 1_500;
const TARGET_CPU_PCT = 30;
const TARGET_LATENCY_MS = 50;

const wallMs = () => performance.timeOrigin + performance.now();

/** One viewer's frames as it received them: [seq, key (0/1), capturedUs, relayedUs, arrival ms] per frame. */
interface ViewerLog {
  frames: number[];
  controls: string[];
  closed: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Client threads: open `count` viewers and record every frame's header and arrival time. Plain
// JavaScript run with `eval` (tsx's loader does not reach worker threads on Node 20).
// Per frame: seq, key (0/1), capturedUs, relayedUs, arrival wall clock ms.
// ---------------------------------------------------------------------------------------------
const CLIENT_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const WebSocket = require(workerData.wsPath);
const logs = [];
const sockets = [];
let open = 0;
for (let i = 0; i < workerData.count; i++) {
  const log = { frames: [], controls: [], closed: undefined };
  logs.push(log);
  const ws = new WebSocket(workerData.url, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on("open", () => {
    if (++open === workerData.count) parentPort.postMessage({ type: "open" });
  });
  ws.on("message", (data, isBinary) => {
    const at = performance.timeOrigin + performance.now();
    if (!isBinary) {
      log.controls.push(data.toString());
      return;
    }
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    log.frames.push(v.getUint32(4, true), v.getUint8(1) & 1, v.getFloat64(16, true), v.getFloat64(24, true), at);
  });
  ws.on("error", (err) => (log.closed ??= "error: " + err.message));
  ws.on("close", (code) => (log.closed ??= "closed " + code));
}
parentPort.on("message", (m) => {
  if (m.type === "progress") {
    parentPort.postMessage({ type: "progress", keyed: logs.filter((l) => l.frames.length > 0).length });
  } else if (m.type === "collect") {
    parentPort.postMessage({ type: "logs", logs: logs.map((l) => ({ ...l, frames: new Float64Array(l.frames) })) });
    for (const ws of sockets) ws.close();
  }
});
`;

// ---------------------------------------------------------------------------------------------
// Main thread: the stack, the clients, /proc sampling, the figures.
// ---------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const round = (n: number) => Math.round(n * 10) / 10;
  /** summary() for samples too large to spread into Math.max (150,000 latencies). */
  const summaryOf = (values: number[]): ReturnType<typeof summary> => {
    if (values.length === 0) return { n: 0 };
    const sorted = Float64Array.from(values).sort();
    const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number);
    return { n: values.length, p50: at(50), p95: at(95), p99: at(99), max: round(sorted[sorted.length - 1] as number), min: round(sorted[0] as number) };
  };
  // The 2 Mbit/s source: noise, looped by the camera's file source.
  const dir = mkdtempSync(join(tmpdir(), "picket-fanout-"));
  const clip = join(dir, "noise.mp4");
  const made = spawnSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=30:allf=t+u", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-pix_fmt", "yuv420p", "-g", "50", clip]);
  if (made.status !== 0) throw new Error(`ffmpeg could not make the source clip: ${made.stderr?.toString()}`);

  const streamPort = await freePort();
  const stack = await startStack({
    services: ["camera", "stream"],
    env: { PICKET_STREAM_PORT: String(streamPort) },
    // One profile and motion detection off: neither is on the path measured, and their CPU would only crowd this 2-core box.
    envFor: { camera: { PICKET_CAMERA_SOURCE: `file:${clip}`, PICKET_CAMERA_PROFILES: `high:1280x720@${BITRATE_KBPS}`, PICKET_CAMERA_FPS: "25", PICKET_MOTION_FPS: "0" } },
  });
  const url = `ws://127.0.0.1:${streamPort}/live/${stack.device}/high${viewerQuery(stack.device)}`;
  const streamPid = stack.get("stream").pid as number;
  const cameraPid = stack.get("camera").pid as number;

  const nc = await connectBus({ url: stack.nats.url, name: "bench-fanout", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });
  const published: { seq: number; key: boolean; capturedMs: number; bytes: number; busMs: number }[] = [];
  const videoSub = nc.subscribe(subjects.video(stack.device, "high"), {
    callback: (err, msg) => {
      if (err !== null) return;
      const meta = readVideoHeaders(msg.headers, msg.subject);
      const last = published.at(-1);
      if (meta.part !== undefined && meta.part.index !== 1) {
        if (last?.seq === meta.seq) last.bytes += msg.data.length; // the rest of a unit sent in parts
        return;
      }
      published.push({ seq: meta.seq, key: meta.key, capturedMs: meta.capturedUs / 1000, bytes: msg.data.length, busMs: wallMs() - meta.capturedUs / 1000 });
    },
  });
  let streamHeartbeat: { cpuPct: number; rssBytes: number; vitals: Record<string, number> } | undefined;
  const hbSub = nc.subscribe(subjects.heartbeat(stack.device, "stream"), {
    callback: (err, msg) => {
      if (err === null) streamHeartbeat = JSON.parse(new TextDecoder().decode(msg.data)) as typeof streamHeartbeat;
    },
  });

  interface Result {
    t0: number;
    t1: number;
    logs: (Omit<ViewerLog, "frames"> & { frames: Float64Array })[];
    cpu: Record<string, number | undefined>;
    load: { start: number; end: number };
    streamCpuPerS: number[];
    rss: number[];
    rssEnd: ReturnType<typeof memory>;
    rssIdle: ReturnType<typeof memory>;
    connectMs: number;
    heartbeat: typeof streamHeartbeat;
    skipsMetric: number;
  }
  let result: Result;
  const workers: Worker[] = [];
  try {
    // Stream service idle with the camera running (no viewer, so no subscription yet).
    await sleep(1_000);
    const rssIdle = memory(streamPid);

    const connectStart = wallMs();
    const perThread = Math.ceil(VIEWERS / CLIENT_THREADS);
    const opened: Promise<void>[] = [];
    for (let i = 0; i < CLIENT_THREADS; i++) {
      const count = Math.min(perThread, VIEWERS - i * perThread);
      if (count <= 0) break;
      const w = new Worker(CLIENT_SOURCE, { eval: true, workerData: { url, count, wsPath: createRequire(import.meta.url).resolve("ws") } });
      workers.push(w);
      opened.push(new Promise((resolve, reject) => {
        w.on("error", reject);
        const onOpen = (m: { type: string }) => {
          if (m.type !== "open") return;
          w.off("message", onOpen);
          resolve();
        };
        w.on("message", onOpen);
      }));
    }
    await Promise.race([Promise.all(opened), sleep(30_000).then(() => Promise.reject(new Error("viewers did not all connect in 30 s")))]);
    const connectMs = wallMs() - connectStart;
    const ask = <T>(w: Worker, type: string, reply: string): Promise<T> =>
      new Promise((resolve) => {
        const on = (m: { type: string }) => {
          if (m.type !== reply) return;
          w.off("message", on);
          resolve(m as T);
        };
        w.on("message", on);
        w.postMessage({ type });
      });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const keyed = (await Promise.all(workers.map((w) => ask<{ keyed: number }>(w, "progress", "progress")))).reduce((n, r) => n + r.keyed, 0);
      if (keyed === VIEWERS) break;
      if (Date.now() > deadline) throw new Error(`only ${keyed} of ${VIEWERS} viewers got a frame in 20 s`);
      await sleep(200);
    }
    await sleep(WARMUP_MS);

    // The window: stream CPU per second and over the whole; RSS each second.
    const pids: Record<string, number | undefined> = {
      stream: streamPid,
      camera: cameraPid,
      ffmpeg: childrenOf(cameraPid).find((c) => c.comm === "ffmpeg")?.pid,
      "nats-server": findNatsServer(stack.nats.port),
      "bench (viewers)": process.pid,
    };
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuMs(p)]));
    const busy0 = machineBusyMs();
    const load0 = loadavg()[0] as number;
    const t0 = wallMs();
    const streamCpuPerS: number[] = [];
    const rss: number[] = [];
    let last = { at: t0, ms: cpu0.stream as number };
    while (wallMs() < t0 + WINDOW_S * 1000) {
      await sleep(1_000);
      const at = wallMs();
      const ms = cpuMs(streamPid);
      if (ms === undefined) throw new Error("the stream service is gone");
      streamCpuPerS.push((100 * (ms - last.ms)) / (at - last.at));
      last = { at, ms };
      rss.push(memory(streamPid)?.rssMB ?? Number.NaN);
    }
    const t1 = wallMs();
    const cpu: Record<string, number | undefined> = {};
    for (const [k, p] of Object.entries(pids)) {
      const a = cpu0[k];
      const b = cpuMs(p);
      cpu[k] = a === undefined || b === undefined ? undefined : (100 * (b - a)) / (t1 - t0);
    }
    cpu["machine (all processes, all cores)"] = (100 * (machineBusyMs() - busy0)) / (t1 - t0);
    const load = { start: round(load0), end: round(loadavg()[0] as number) };
    const rssEnd = memory(streamPid);
    const heartbeat = streamHeartbeat;
    await sleep(GRACE_MS);
    const replies = await Promise.all(workers.map((w) => ask<{ logs: Result["logs"] }>(w, "collect", "logs")));
    // The stream service counts a viewer's skips when it leaves.
    await sleep(1_000);
    const skipsMetric = await metricTotal(streamPort, "picket_stream_viewer_skips_total");
    result = { t0, t1, logs: replies.flatMap((r) => r.logs), cpu, load, streamCpuPerS, rss, rssEnd, rssIdle, connectMs, heartbeat, skipsMetric };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    videoSub.unsubscribe();
    hbSub.unsubscribe();
    await nc.close();
    const codes = await stack.stop();
    const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
    if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
    rmSync(dir, { recursive: true, force: true });
  }

  // ---- figures ----
  const { t0, t1, logs } = result;
  const windowS = (t1 - t0) / 1000;
  const pub = published.filter((p) => p.capturedMs >= t0 && p.capturedMs < t1);
  const pubSeqs = new Set(pub.map((p) => p.seq));
  const pubBytes = pub.reduce((n, p) => n + p.bytes, 0);
  const all: number[] = [];
  const toViewer: number[] = [];
  const keyLat: number[] = [];
  const deltaLat: number[] = [];
  /** Per frame in the window: the stream service's relay stamp less the capture stamp, and the first and last arrival across viewers. */
  const perFrame = new Map<number, { toStream: number; first: number; last: number }>();
  const F = 5;
  const perViewer = logs.map((l) => {
    const lat: number[] = [];
    const seqs = new Set<number>();
    let gaps = 0;
    for (let i = 0; i < l.frames.length; i += F) {
      const [seq, key, capturedUs, relayedUs, at] = [l.frames[i], l.frames[i + 1], l.frames[i + 2], l.frames[i + 3], l.frames[i + 4]] as number[] as [number, number, number, number, number];
      if (i > 0 && seq !== (l.frames[i - F] as number) + 1) gaps++;
      const capturedMs = capturedUs / 1000;
      if (capturedMs < t0 || capturedMs >= t1) continue;
      const ms = at - capturedMs;
      lat.push(ms);
      (key === 1 ? keyLat : deltaLat).push(ms);
      toViewer.push(at - relayedUs / 1000);
      seqs.add(seq);
      const f = perFrame.get(seq);
      if (f === undefined) perFrame.set(seq, { toStream: (relayedUs - capturedUs) / 1000, first: at, last: at });
      else {
        f.first = Math.min(f.first, at);
        f.last = Math.max(f.last, at);
      }
    }
    for (const x of lat) all.push(x);
    const got = [...pubSeqs].filter((q) => seqs.has(q)).length;
    return { n: lat.length, got, p50: percentile(lat, 50), p95: percentile(lat, 95), max: lat.length > 0 ? Math.max(...lat) : Number.NaN, gaps, closed: l.closed };
  });
  const frames = [...perFrame.values()];
  const viewerP95 = perViewer.map((v) => v.p95);
  const worstP95 = Math.max(...viewerP95);
  const worstMax = Math.max(...perViewer.map((v) => v.max));
  const streamCpu = result.cpu.stream as number;
  const received = perViewer.map((v) => v.got);
  const allFrames = perViewer.filter((v) => v.got === pub.length).length;
  const latencyMet = perViewer.every((v) => v.p95 <= TARGET_LATENCY_MS);
  const cpuMet = streamCpu <= TARGET_CPU_PCT;
  const allSummary = summaryOf(all);

  report({
    name: "fanout",
    value: round(streamCpu),
    unit: "% of one core (stream service)",
    target: `stream service <= ${TARGET_CPU_PCT} % of one core and every viewer's p95 latency <= ${TARGET_LATENCY_MS} ms, ${VIEWERS} viewers of 2 Mbit/s 720p25`,
    met: cpuMet && latencyMet,
    samples: all.length,
    details: {
      viewers: VIEWERS,
      windowS: round(windowS),
      met: { cpu: cpuMet, latency: latencyMet },
      streamService: {
        cpuPctOfOneCore: round(streamCpu),
        cpuPctPerSecond: summary(result.streamCpuPerS),
        rssMB: { idleNoViewers: result.rssIdle?.rssMB, during: summary(result.rss), end: result.rssEnd?.rssMB, peakHwm: result.rssEnd?.hwmMB, anonEnd: result.rssEnd?.anonMB },
        heartbeat: result.heartbeat === undefined ? undefined : { cpuPct: result.heartbeat.cpuPct, rssMB: round(result.heartbeat.rssBytes / 2 ** 20), vitals: result.heartbeat.vitals },
        viewerSkipsTotal: result.skipsMetric,
        sendMbps: round((pubBytes * 8 * VIEWERS) / windowS / 1e6),
      },
      latencyMs: {
        allFrames: allSummary,
        viewerP50: summary(perViewer.map((v) => v.p50)),
        viewerP95: summary(viewerP95),
        worstViewerP95: round(worstP95),
        worstFrame: round(worstMax),
        viewersWithP95Over50: perViewer.filter((v) => v.p95 > TARGET_LATENCY_MS).length,
        viewersWithAFrameOver50: perViewer.filter((v) => v.max > TARGET_LATENCY_MS).length,
        framesOver50: all.filter((x) => x > TARGET_LATENCY_MS).length,
        framesOver100: all.filter((x) => x > 100).length,
        keyframes: summaryOf(keyLat),
        deltaFrames: summaryOf(deltaLat),
        legs: {
          cameraToStream: summary(frames.map((f) => f.toStream)),
          streamToViewer: summaryOf(toViewer),
          /** Per frame, last viewer's arrival less the first's: the cost of sending it 200 times. */
          fanoutSpread: summary(frames.map((f) => f.last - f.first)),
          benchBusSubscriber: summary(pub.map((p) => p.busMs)),
        },
      },
      frames: {
        published: pub.length,
        publishedFps: round(pub.length / windowS),
        publishedKbps: Math.round((pubBytes * 8) / windowS / 1000),
        frameKB: { key: summary(pub.filter((p) => p.key).map((p) => p.bytes / 1024)), delta: summary(pub.filter((p) => !p.key).map((p) => p.bytes / 1024)) },
        receivedPerViewer: summary(received),
        viewersWithEveryFrame: allFrames,
        viewersWithSeqGaps: perViewer.filter((v) => v.gaps > 0).length,
        viewersClosedEarly: perViewer.filter((v) => v.closed !== undefined).map((v) => v.closed),
      },
      cpuPctOfOneCore: Object.fromEntries(Object.entries(result.cpu).map(([k, v]) => [k, v === undefined ? undefined : round(v)])),
      machine: { cores: cpus().length, loadAvg1m: result.load, note: "other work on this shared machine shows as the machine's busy share less the processes listed" },
      connectMs: Math.round(result.connectMs),
      clients: `${VIEWERS} ws clients in ${CLIENT_THREADS} worker threads of the bench process, on the same machine`,
      source: `camera file source: generated noise 1280x720@25 looped, re-encoded by the camera (libx264 ultrafast) at ${BITRATE_KBPS} kbit/s, GOP 2 s; one profile (PICKET_CAMERA_PROFILES=high:1280x720@${BITRATE_KBPS}), motion detection off`,
      path: "camera → nats-server → stream relay → websocket (loopback) → ws client; latency = arrival − capture stamp in the live-frame header",
    },
  });
  console.log(
    `fanout: ${VIEWERS} viewers × ${Math.round((pubBytes * 8) / windowS / 1000)} kbit/s for ${round(windowS)} s: stream ${round(streamCpu)} % of a core (target ≤ ${TARGET_CPU_PCT}: ${cpuMet ? "met" : "NOT met"}), RSS ${result.rssEnd?.rssMB} MB; ` +
      `latency p50 ${allSummary.p50} / p95 ${allSummary.p95} / max ${allSummary.max} ms, worst viewer's p95 ${round(worstP95)} ms (target ≤ ${TARGET_LATENCY_MS}: ${latencyMet ? "met" : "NOT met"}); ` +
      `frames per viewer ${Math.min(...received)}–${Math.max(...received)} of ${pub.length} published, skips ${result.skipsMetric}`,
  );
}

await main();
