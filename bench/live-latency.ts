// Live latency: from the camera's output of an access unit (the capture wall clock it stamps on
// each unit as it leaves the encoder) to that frame decoded by WebCodecs in Chromium, through
// the real camera (ffmpeg test scene, 1280x720@25), nats-server, the stream service, the web
// service's live proxy and the page's player. Run: node --import tsx bench/live-latency.ts
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { readVideoHeaders, subjects } from "@picket/contracts";
import { connectBus, createLogger } from "@picket/runtime";
import { freePort } from "../test/support/ports.js";
import { startStack } from "../test/support/stack.js";
import { launchChromium, playerStats, waitForFirstFrame } from "./lib/browser.js";
import { summary, reportLatency } from "./lib/result.js";

const TARGET_P95_MS = 15;
const WARMUP_MS = 4_000;
/** Frames measured: at 25 fps 20 s of video, which includes the test scene's first visit (a person walks through from 8 s to 14 s). */
const SAMPLES = 500;
const COLLECT_TIMEOUT_MS = 60_000;

const wallMs = () => performance.timeOrigin + performance.now();
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Page instrumentation, installed before the player's script runs. It does not change what
 * the player does: it listens to the live socket beside the player (arrival time and the
 * frame header: seq, key, pts, captured and relayed stamps) and times each decode() call and
 * decoder output, so a frame's latency can be split into its legs. The headline figure comes
 * from the player's own `latencies`, not from this.
 */
const INSTRUMENT = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const rec = { arrivals: [], decodes: [], outputs: [] };
  window.__benchLive = rec;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        if (!(ev.data instanceof ArrayBuffer) || ev.data.byteLength < 32) return;
        const v = new DataView(ev.data);
        rec.arrivals.push({ at: now(), seq: v.getUint32(4, true), key: (v.getUint8(1) & 1) === 1, ptsUs: v.getFloat64(8, true), capturedUs: v.getFloat64(16, true), relayedUs: v.getFloat64(24, true), bytes: ev.data.byteLength });
      });
    }
  };
  const NativeDecoder = window.VideoDecoder;
  if (typeof NativeDecoder === "function") {
    window.VideoDecoder = class extends NativeDecoder {
      constructor(init) {
        super({ output: (frame) => { rec.outputs.push({ at: now(), ptsUs: frame.timestamp }); init.output(frame); }, error: init.error });
      }
      decode(chunk) {
        rec.decodes.push({ at: now(), ptsUs: chunk.timestamp, queue: this.decodeQueueSize });
        return super.decode(chunk);
      }
    };
  }
})();`;

interface Arrival {
  at: number;
  seq: number;
  key: boolean;
  ptsUs: number;
  capturedUs: number;
  relayedUs: number;
  bytes: number;
}
interface Instrumented {
  arrivals: Arrival[];
  decodes: { at: number; ptsUs: number; queue: number }[];
  outputs: { at: number; ptsUs: number }[];
}
interface PlayerHandle {
  stats: { decoded: number; fps: number; kbps: number; state: string; codec: string; width: number; height: number };
  latencies: number[];
}
type BenchWindow = { picket: { players: Record<string, PlayerHandle> }; __benchLive: Instrumented };

const [httpPort, streamPort] = [await freePort(), await freePort()];
const stack = await startStack({
  services: ["camera", "stream", "web"],
  env: { PICKET_HTTP_PORT: String(httpPort), PICKET_HTTP_HOST: "127.0.0.1", PICKET_STREAM_PORT: String(streamPort), PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}` },
});
const web = `http://127.0.0.1:${httpPort}/`;

// What the camera publishes, seen on the bus beside the stream service.
const nc = await connectBus({ url: stack.nats.url, name: "bench-live-latency", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });
const published: { seq: number; key: boolean; capturedMs: number; busMs: number; bytes: number }[] = [];
const sub = nc.subscribe(subjects.video(stack.device, "high"), {
  callback: (err, msg) => {
    if (err !== null) return;
    const meta = readVideoHeaders(msg.headers, msg.subject);
    if (meta.part !== undefined && meta.part.index !== 1) return; // count each unit once
    published.push({ seq: meta.seq, key: meta.key, capturedMs: meta.capturedUs / 1000, busMs: wallMs() - meta.capturedUs / 1000, bytes: msg.data.length });
  },
});

const browser = await launchChromium();
const pageErrors: string[] = [];
let result: {
  latencies: number[];
  decodedInWindow: number;
  windowMs: number;
  t0: number;
  t1: number;
  fps: number;
  kbps: number;
  stream: { codec: string; width: number; height: number; state: string };
  clockOffsetMs: number;
  rec: Instrumented;
};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") pageErrors.push(`${m.type()}: ${m.text()}`);
  });
  await page.addInitScript(INSTRUMENT);
  await page.goto(web);
  await waitForFirstFrame(page, stack.device);
  await sleep(WARMUP_MS);

  // The page's clock against ours (both are this machine's wall clock; this checks it).
  const before = wallMs();
  const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
  const after = wallMs();
  const clockOffsetMs = pageNow - (before + after) / 2;

  const start = await page.evaluate((d) => {
    const p = (globalThis as unknown as BenchWindow).picket.players[d] as PlayerHandle;
    p.latencies.length = 0;
    return { decoded: p.stats.decoded, at: performance.timeOrigin + performance.now() };
  }, stack.device);
  const deadline = Date.now() + COLLECT_TIMEOUT_MS;
  while ((await page.evaluate((d) => (globalThis as unknown as BenchWindow).picket.players[d]?.latencies.length ?? 0, stack.device)) < SAMPLES) {
    if (Date.now() > deadline) throw new Error(`fewer than ${SAMPLES} frames decoded in ${COLLECT_TIMEOUT_MS} ms: ${JSON.stringify(await playerStats(page, stack.device))}`);
    await sleep(250);
  }
  const end = await page.evaluate(
    ([d, from]) => {
      const w = globalThis as unknown as BenchWindow;
      const p = w.picket.players[d] as PlayerHandle;
      const rec = w.__benchLive;
      return {
        latencies: [...p.latencies],
        decoded: p.stats.decoded,
        fps: p.stats.fps,
        kbps: p.stats.kbps,
        stream: { codec: p.stats.codec, width: p.stats.width, height: p.stats.height, state: p.stats.state },
        at: performance.timeOrigin + performance.now(),
        // (no named helpers in here: tsx would wrap them in a __name() the page does not have)
        rec: { arrivals: rec.arrivals.filter((x) => x.at >= from), decodes: rec.decodes.filter((x) => x.at >= from), outputs: rec.outputs.filter((x) => x.at >= from) },
      };
    },
    [stack.device, start.at] as const,
  );
  result = {
    latencies: end.latencies,
    decodedInWindow: end.decoded - start.decoded,
    windowMs: end.at - start.at,
    t0: start.at,
    t1: end.at,
    fps: end.fps,
    kbps: end.kbps,
    stream: end.stream,
    clockOffsetMs,
    rec: end.rec,
  };
} finally {
  sub.unsubscribe();
  await nc.close();
  await browser.close();
  const codes = await stack.stop();
  const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
}

const { latencies, rec, t0, t1, windowMs } = result;
const windowS = windowMs / 1000;

// Units the camera put on the bus whose capture stamp falls in the window, against frames decoded.
const pubInWindow = published.filter((p) => p.capturedMs >= t0 && p.capturedMs < t1);
const seqs = pubInWindow.map((p) => p.seq);
const seqGaps = seqs.slice(1).reduce((n, s, i) => n + Math.max(0, s - (seqs[i] as number) - 1), 0);
const captureIntervals = pubInWindow.slice(1).map((p, i) => p.capturedMs - (pubInWindow[i] as (typeof pubInWindow)[number]).capturedMs);
const arrivedSeqs = new Set(rec.arrivals.map((a) => a.seq));
const notArrived = pubInWindow.filter((p) => !arrivedSeqs.has(p.seq)).length;
const decodedPts = new Set(rec.outputs.map((o) => o.ptsUs));
const submittedPts = new Set(rec.decodes.map((d) => d.ptsUs));

// Per-frame legs, joined on pts: camera → stream service (bus), stream → page (web proxy, websocket), page → decoded.
const outAt = new Map(rec.outputs.map((o) => [o.ptsUs, o.at]));
const legs = rec.arrivals
  .filter((a) => outAt.has(a.ptsUs))
  .map((a) => {
    const decodedAt = outAt.get(a.ptsUs) as number;
    return {
      seq: a.seq,
      key: a.key,
      kB: round(a.bytes / 1024),
      toStream: a.relayedUs / 1000 - a.capturedUs / 1000,
      toPage: a.at - a.relayedUs / 1000,
      decode: decodedAt - a.at,
      total: decodedAt - a.capturedUs / 1000,
    };
  });
const leg = (pick: (l: (typeof legs)[number]) => number, which = legs) => summary(which.map(pick));
const keys = legs.filter((l) => l.key);
const deltas = legs.filter((l) => !l.key);
const worst = [...legs].sort((a, b) => b.total - a.total).slice(0, 8).map((l) => ({ ...l, toStream: round(l.toStream), toPage: round(l.toPage), decode: round(l.decode), total: round(l.total) }));

reportLatency("live-latency", latencies, TARGET_P95_MS, {
  over15ms: latencies.filter((l) => l > 15).length,
  over40ms: latencies.filter((l) => l > 40).length,
  frames: latencies.length,
  windowS: round(windowS),
  fpsObserved: result.fps,
  decodedFps: round(result.decodedInWindow / windowS),
  publishedFps: round(pubInWindow.length / windowS),
  framesPublished: pubInWindow.length,
  framesArrivedInPage: rec.arrivals.length,
  framesSubmittedToDecoder: submittedPts.size,
  framesDecoded: result.decodedInWindow,
  framesDropped: Math.max(0, pubInWindow.length - result.decodedInWindow),
  notDeliveredToPage: notArrived,
  arrivedNotDecoded: rec.arrivals.filter((a) => !decodedPts.has(a.ptsUs)).length,
  cameraSeqGaps: seqGaps,
  cameraIntervalMs: summary(captureIntervals),
  legsMs: {
    cameraToStream: leg((l) => l.toStream),
    streamToPage: leg((l) => l.toPage),
    pageToDecoded: leg((l) => l.decode),
    total: leg((l) => l.total),
    totalKeyframes: leg((l) => l.total, keys),
    totalDeltaFrames: leg((l) => l.total, deltas),
    benchBusSubscriber: summary(pubInWindow.map((p) => p.busMs)),
  },
  frameKB: { key: summary(keys.map((l) => l.kB)), delta: summary(deltas.map((l) => l.kB)) },
  decodeQueueAtSubmit: summary(rec.decodes.map((d) => d.queue)),
  worstFrames: worst,
  stream: { ...result.stream, kbps: result.kbps },
  pageClockOffsetMs: round(result.clockOffsetMs),
  pageErrors,
  path: "camera (ffmpeg libx264 ultrafast/zerolatency → FLV → capture stamp) → nats-server → stream relay → web live proxy → websocket → Chromium WebCodecs VideoDecoder output",
  chromium: "headless, --disable-gpu (software H.264 decode)",
});
