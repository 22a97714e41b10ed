// Footprint: resident memory (VmRSS) of every process of the device stack: the five Node
// services, the camera's ffmpeg and nats-server, first idle (no viewer), then with one viewer
// (headless Chromium playing the live page; Chromium itself is not counted).
// Run: node --import tsx bench/footprint.ts
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../test/support/ports.js";
import { startStack, type ServiceName } from "../test/support/stack.js";
import { login } from "../test/support/web-session.js";
import { launchChromium, playerStats, waitForFirstFrame } from "./lib/browser.js";
import { serviceModuleCosts } from "./lib/module-cost.js";
import { childrenOf, findNatsServer, memory, type Memory } from "./lib/proc.js";
import { report } from "./lib/result.js";

const SERVICE_TARGET_MB = 60;
const TOTAL_TARGET_MB = 300;
/** Idle settling before sampling; PICKET_BENCH_SETTLE_MS overrides it (V8 gives memory back only after a while). */
const SETTLE_MS = Number(process.env.PICKET_BENCH_SETTLE_MS ?? 10_000);
const SAMPLES = 5;
const SAMPLE_EVERY_MS = 1_000;
/** With the viewer: let it play this long before sampling (sampling adds ~5 s more on the page). */
const VIEWER_SETTLE_MS = 5_000;

const SERVICES: ServiceName[] = ["camera", "pir", "bot", "stream", "web"];
const round = (n: number) => Math.round(n * 10) / 10;

/** To try V8 flags without touching the services: PICKET_BENCH_NODE_OPTIONS="--max-semi-space-size=1" becomes their NODE_OPTIONS. */
const nodeOptions = process.env.PICKET_BENCH_NODE_OPTIONS ?? "";

const [httpPort, streamPort] = [await freePort(), await freePort()];
const stack = await startStack({
  services: SERVICES,
  env: {
    PICKET_HTTP_PORT: String(httpPort),
    PICKET_HTTP_HOST: "127.0.0.1",
    PICKET_STREAM_PORT: String(streamPort),
    PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`,
    ...(nodeOptions === "" ? {} : { NODE_OPTIONS: nodeOptions }),
  },
});

/** Every process to measure, by name; found again at each sample (ffmpeg could be restarted). */
function processes(): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const s of SERVICES) out[s] = stack.get(s).pid;
  const cameraPid = stack.get("camera").pid;
  const encoders = cameraPid === undefined ? [] : childrenOf(cameraPid).filter((c) => c.comm === "ffmpeg");
  out.ffmpeg = encoders[0]?.pid;
  out["nats-server"] = findNatsServer(stack.nats.port);
  return out;
}

/** Samples every process SAMPLES times and keeps each one's largest RSS (and the breakdown of that sample). */
async function sample(): Promise<Record<string, Memory>> {
  const peak: Record<string, Memory> = {};
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, pid] of Object.entries(processes())) {
      if (pid === undefined) throw new Error(`${name}: no process found`);
      const m = memory(pid);
      if (m === undefined) throw new Error(`${name} (pid ${pid}) is gone`);
      if (peak[name] === undefined || m.rssMB > (peak[name] as Memory).rssMB) peak[name] = m;
    }
    if (i < SAMPLES - 1) await sleep(SAMPLE_EVERY_MS);
  }
  return peak;
}

/** V8 heap figures from each service's /metrics (prom-client default metrics), MB. */
async function heaps(): Promise<Record<string, { heapUsedMB: number; heapTotalMB: number; externalMB: number }>> {
  const out: Record<string, { heapUsedMB: number; heapTotalMB: number; externalMB: number }> = {};
  for (const s of SERVICES) {
    const port =
      s === "stream" ? streamPort : (stack.get(s).logs.find((l) => l.msg === "serving /healthz and /metrics")?.port as number | undefined);
    if (port === undefined) continue;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const metric = (name: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`picket_${name} `) || l.startsWith(`picket_${name}{`));
      return line === undefined ? Number.NaN : round(Number(line.slice(line.lastIndexOf(" ") + 1)) / 2 ** 20);
    };
    out[s] = { heapUsedMB: metric("nodejs_heap_size_used_bytes"), heapTotalMB: metric("nodejs_heap_size_total_bytes"), externalMB: metric("nodejs_external_memory_bytes") };
  }
  return out;
}

const total = (m: Record<string, Memory>, pick: (x: Memory) => number = (x) => x.rssMB) => round(Object.values(m).reduce((n, x) => n + pick(x), 0));

let idle: Record<string, Memory>;
let viewer: Record<string, Memory>;
let idleHeaps: Awaited<ReturnType<typeof heaps>>;
let viewerHeaps: Awaited<ReturnType<typeof heaps>>;
let played: { decoded: number; fps: number } | undefined;
try {
  await sleep(SETTLE_MS);
  idle = await sample();
  idleHeaps = await heaps();

  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await (await login(`http://127.0.0.1:${httpPort}`)).addTo(context);
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    await waitForFirstFrame(page, stack.device);
    await sleep(VIEWER_SETTLE_MS);
    viewer = await sample();
    viewerHeaps = await heaps();
    const s = await playerStats(page, stack.device);
    played = s === undefined ? undefined : { decoded: s.decoded, fps: s.fps };
  } finally {
    await browser.close();
  }
} finally {
  const codes = await stack.stop();
  const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
}

const overIdle = SERVICES.filter((s) => (idle[s] as Memory).rssMB > SERVICE_TARGET_MB);
// A service over its budget: what its dependencies cost on their own (fresh processes, after the stack is gone).
const moduleCosts = overIdle.length > 0 || process.env.PICKET_BENCH_MODULE_COSTS === "1" ? await serviceModuleCosts() : undefined;
const viewerTotal = total(viewer);
const met = viewerTotal <= TOTAL_TARGET_MB && overIdle.length === 0;
const table = (m: Record<string, Memory>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.rssMB]));
report({
  name: "footprint",
  value: viewerTotal,
  unit: "MB",
  target: `total <= ${TOTAL_TARGET_MB} MB with one viewer; each Node service <= ${SERVICE_TARGET_MB} MB idle`,
  met,
  samples: SAMPLES * 2,
  details: {
    idleMB: table(idle),
    viewerMB: table(viewer),
    idleTotalMB: total(idle),
    viewerTotalMB: viewerTotal,
    nodeServicesIdleTotalMB: round(SERVICES.reduce((n, s) => n + (idle[s] as Memory).rssMB, 0)),
    servicesOverIdleTarget: overIdle,
    /** RSS counts the pages of the node binary once per process; PSS shares them out. */
    viewerTotalPssMB: total(viewer, (x) => x.pssMB),
    breakdownIdle: idle,
    breakdownViewer: viewer,
    v8Idle: idleHeaps,
    v8Viewer: viewerHeaps,
    viewerPlayed: played,
    ...(moduleCosts === undefined ? {} : { moduleCostsMB: moduleCosts }),
    method: `VmRSS from /proc/<pid>/status, max of ${SAMPLES} samples ${SAMPLE_EVERY_MS} ms apart; idle after ${SETTLE_MS / 1000} s of settling, viewer after ${VIEWER_SETTLE_MS / 1000} s of playing; ffmpeg = the camera's child, nats-server found by its -p port`,
    camera: "test source 1280x720@25 (defaults)",
    node: process.version,
    nodeOptions: nodeOptions === "" ? "(none)" : nodeOptions,
  },
});
