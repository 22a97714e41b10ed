// Fleet scale: DEVICES simulated devices heartbeating into one hub, as a household's (or a
// company's) fleet does: each device's five services (camera, pir, bot, stream, web) beat
// every 2 s with ±100 ms of jitter, 2,500 heartbeats a second for 1,000 devices. The hub is a
// real nats-server and the real fleet service (services/fleet). Every KILL_EVERY_S one device
// chosen at random falls silent (a power cut) and comes back DOWN_S later.
//
// Reported: the hub's CPU (fleet service + nats-server, share of one core, /proc/<pid>/stat),
// detection time (a silent device's last heartbeat → the hub's `offline` event, p99 the
// headline of the target), and false offline events (any device called offline that was not
// silenced). Targets (issue 7): hub CPU < 25 % of a core, detection p99 <= 10 s, 0 false
// offline events over 10 minutes.
//
// The hub's own trouble must not look like the devices' silence: halfway through, the fleet
// service is frozen for STALL_S (SIGSTOP, as a hub swapping or starved of CPU would be), and
// at three quarters the hub's nats-server restarts. Offline events then are false alarms
// too; a device silenced around those moments is detected later (the hub was deaf), and
// those detections are reported apart from the p99.
//
// Timeout or phi-accrual? The same run records, at a subscriber on the hub's bus, every
// healthy device's gaps between heartbeats; the detector's fixed timeout is compared there
// with a phi-accrual detector (Hayashibara et al.; Akka's defaults: threshold 8, min std
// 100 ms, 100 intervals) fed those gaps: its false alarms and its detection time.
//
// Run: npm run bench -- fleet-scale   (PICKET_BENCH_FLEET_S=600 by default; a shorter
// run for a quick look: PICKET_BENCH_FLEET_S=60)
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { DeviceStatusEvent, subjects, type Heartbeat, type ServiceName } from "@picket/contracts";
import { connectBus, createLogger } from "@picket/runtime";
import { startNats } from "../test/support/nats.js";
import { ServiceProcess, baseEnv } from "../test/support/services.js";
import { cpuMs, findNatsServer, memory } from "./lib/proc.js";
import { report, summary } from "./lib/result.js";

const DEVICES = Number(process.env.PICKET_BENCH_DEVICES ?? 1000);
const DURATION_S = Number(process.env.PICKET_BENCH_FLEET_S ?? 600);
const BEAT_MS = 2_000;
const JITTER_MS = 100;
const KILL_EVERY_S = 5;
const STALL_S = 4;
const DOWN_S = 30;
const SERVICES: ServiceName[] = ["camera", "pir", "bot", "stream", "web"];
const TARGET_CPU_PCT = 25;
const TARGET_DETECTION_S = 10;
const OFFLINE_AFTER_MS = 6_000;
/** phi-accrual, as Akka sets it up. */
const PHI = { threshold: 8, minStdMs: 100, window: 100 };

const wall = () => performance.timeOrigin + performance.now();
const round = (n: number) => Math.round(n * 10) / 10;

/** Phi of a silence of `gapMs` after intervals of this mean and standard deviation (logistic approximation of the normal CDF, as Akka). */
function phi(gapMs: number, mean: number, std: number): number {
  const y = (gapMs - mean) / Math.max(std, PHI.minStdMs);
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return gapMs > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}
/** The silence after which phi reaches the threshold (by bisection). */
function phiDetectionMs(mean: number, std: number): number {
  let lo = mean;
  let hi = mean + 100 * Math.max(std, PHI.minStdMs);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (phi(mid, mean, std) >= PHI.threshold) hi = mid;
    else lo = mid;
  }
  return hi;
}

interface Sim {
  id: string;
  next: number;
  silentSince?: number;
  lastBeat: number;
  started: number;
}

async function main(): Promise<void> {
  const log = createLogger({ service: "bench", device: "bench", level: "silent" });
  const nats = await startNats();
  const hubEnv = { ...baseEnv(nats.url, "hub"), PICKET_FLEET_OPS_PORT: "0", PICKET_HEARTBEAT_MS: String(BEAT_MS), PICKET_FLEET_OFFLINE_MS: String(OFFLINE_AFTER_MS), PICKET_LOG_LEVEL: "warn" };
  const fleet = new ServiceProcess("fleet", hubEnv);
  let natsPid = findNatsServer(nats.port);
  const nc = await connectBus({ url: nats.url, name: "bench-fleet", log });
  const watcher = await connectBus({ url: nats.url, name: "bench-fleet-watch", log });

  const t0 = wall();
  const sims: Sim[] = Array.from({ length: DEVICES }, (_, i) => ({ id: `dev-${String(i).padStart(4, "0")}`, next: t0 + Math.random() * BEAT_MS, lastBeat: 0, started: t0 }));
  const byId = new Map(sims.map((s) => [s.id, s]));
  const encoder = new TextEncoder();
  const beat = (s: Sim, at: number) => {
    for (const service of SERVICES) {
      const hb: Heartbeat = {
        device: s.id,
        service,
        version: "0.1.0",
        at: Math.round(at),
        uptimeS: Math.round((at - s.started) / 1000),
        rssBytes: 60_000_000,
        cpuPct: 3,
        vitals: service === "camera" ? { capturing: 1, fps: 10, bitrateKbps: 800, lastFrameAgeMs: 60 } : service === "stream" ? { viewers: 0 } : {},
      };
      nc.publish(subjects.heartbeat(s.id, service), encoder.encode(JSON.stringify(hb)));
    }
    s.lastBeat = at;
  };

  // Gaps between a device's heartbeats as the hub's bus delivers them (any service: what the detector sees).
  const arrivals = new Map<string, number>();
  const gaps = new Map<string, number[]>();
  watcher.subscribe(subjects.heartbeatsAll(), {
    callback: (_e, m) => {
      const device = m.subject.split(".")[1] as string;
      const now = wall();
      const prev = arrivals.get(device);
      arrivals.set(device, now);
      const s = byId.get(device);
      // Only gaps of a device that was beating all along (not across its silence).
      if (prev !== undefined && s !== undefined && s.silentSince === undefined && now - prev > 50) {
        const g = gaps.get(device) ?? [];
        g.push(now - prev);
        gaps.set(device, g);
      }
    },
  });

  const offline: { device: string; at: number; expected: boolean; detectionMs?: number }[] = [];
  let online = 0;
  watcher.subscribe(subjects.event("*", "device"), {
    callback: (_e, m) => {
      const ev = DeviceStatusEvent.safeParse(m.json());
      if (!ev.success) return;
      const s = byId.get(ev.data.device);
      if (ev.data.state === "offline") {
        const silenced = s?.silentSince !== undefined;
        offline.push({ device: ev.data.device, at: wall(), expected: silenced, ...(silenced ? { detectionMs: wall() - (s as Sim).lastBeat } : {}) });
      } else if (ev.data.state === "online") online++;
    },
  });

  // The fleet's heartbeats: a 20 ms tick publishes whatever is due.
  let running = true;
  const pump = (async () => {
    while (running) {
      const now = wall();
      for (const s of sims) {
        if (s.silentSince !== undefined || now < s.next) continue;
        beat(s, now);
        s.next += BEAT_MS + (Math.random() * 2 - 1) * JITTER_MS;
        if (s.next < now) s.next = now + BEAT_MS;
      }
      await sleep(20);
    }
  })();

  await fleet.waitForLog((l) => /^fleet watching/.test(l.msg), 30_000, "fleet ready").catch(() => undefined);
  // Warm-up: every device announced.
  const warmDeadline = wall() + 60_000;
  while (online < DEVICES && wall() < warmDeadline) await sleep(200);
  const joined = online;
  console.log(`fleet-scale: ${joined} of ${DEVICES} devices online after ${round((wall() - t0) / 1000)} s; measuring for ${DURATION_S} s`);

  const cpu0 = { fleet: cpuMs(fleet.pid) ?? 0, nats: cpuMs(natsPid) ?? 0, at: wall() };
  /** nats-server's CPU before its restart (a new process after it). */
  let natsBefore = 0;
  const windowStart = wall();
  let silenced = 0;
  const comeBack: { s: Sim; at: number }[] = [];
  /** Every silence: its device and when it began and ended. */
  const episodes: { device: string; from: number; to: number }[] = [];
  let nextKill = windowStart + KILL_EVERY_S * 1000;
  const rss: number[] = [];
  /** When the hub itself was deaf (frozen, or its bus restarting). */
  const outages: { from: number; to: number; what: string }[] = [];
  let stalled = false;
  let restarted = false;
  while (wall() - windowStart < DURATION_S * 1000) {
    const now = wall();
    if (!stalled && now - windowStart >= (DURATION_S * 1000) / 2 && fleet.pid !== undefined) {
      stalled = true;
      process.kill(fleet.pid, "SIGSTOP");
      await sleep(STALL_S * 1000);
      process.kill(fleet.pid, "SIGCONT");
      outages.push({ from: now, to: wall(), what: `fleet service frozen ${STALL_S} s (SIGSTOP)` });
      continue;
    }
    if (!restarted && now - windowStart >= (DURATION_S * 1000 * 3) / 4) {
      restarted = true;
      natsBefore = (cpuMs(natsPid) ?? cpu0.nats) - cpu0.nats;
      await nats.stop();
      await nats.start();
      natsPid = findNatsServer(nats.port);
      cpu0.nats = 0;
      outages.push({ from: now, to: wall(), what: "hub nats-server restarted" });
      continue;
    }
    if (now >= nextKill) {
      nextKill += KILL_EVERY_S * 1000;
      const live = sims.filter((s) => s.silentSince === undefined);
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim !== undefined) {
        victim.silentSince = now;
        comeBack.push({ s: victim, at: now + DOWN_S * 1000 });
        episodes.push({ device: victim.id, from: now, to: now + DOWN_S * 1000 });
        silenced++;
      }
    }
    while (comeBack[0] !== undefined && comeBack[0].at <= now) {
      const { s } = comeBack.shift() as { s: Sim; at: number };
      s.silentSince = undefined;
      s.next = now;
      arrivals.delete(s.id);
    }
    const m = fleet.pid === undefined ? undefined : memory(fleet.pid);
    if (m !== undefined) rss.push(m.rssMB);
    await sleep(1_000);
  }
  const elapsed = wall() - cpu0.at;
  const fleetCpu = (((cpuMs(fleet.pid) ?? 0) - cpu0.fleet) / elapsed) * 100;
  const natsCpu = ((natsBefore + (cpuMs(natsPid) ?? 0) - cpu0.nats) / elapsed) * 100;
  // Devices silenced near the end: give the detector its time before counting.
  await sleep(OFFLINE_AFTER_MS + 3_000);
  running = false;
  await pump;

  const expected = offline.filter((o) => o.expected && o.at >= windowStart);
  // A silence that began or was judged while the hub was deaf: detected late by design.
  const nearOutage = (o: (typeof offline)[number]) => outages.some((w) => o.at >= w.from && o.at - (o.detectionMs ?? 0) <= w.to + OFFLINE_AFTER_MS);
  const detections = expected.filter((o) => !nearOutage(o)).map((o) => (o.detectionMs as number) / 1000);
  const duringOutage = expected.filter(nearOutage).map((o) => round((o.detectionMs as number) / 1000));
  const falseOffline = offline.filter((o) => !o.expected);
  // A silence was noticed if its device was called offline during it (a device may fall silent twice).
  const missed = episodes.filter((e) => !expected.some((o) => o.device === e.device && o.at >= e.from && o.at <= e.to + OFFLINE_AFTER_MS + 3_000)).length;

  // The same gaps through phi-accrual: false alarms (a healthy gap whose phi passes the
  // threshold, with the device's history before it) and when it would have noticed a silence.
  let phiFalse = 0;
  let healthyGaps = 0;
  const phiDetect: number[] = [];
  let maxGap = 0;
  for (const g of gaps.values()) {
    for (let i = 0; i < g.length; i++) {
      const gap = g[i] as number;
      maxGap = Math.max(maxGap, gap);
      healthyGaps++;
      const hist = g.slice(Math.max(0, i - PHI.window), i);
      if (hist.length < 10) continue;
      const mean = hist.reduce((a, b) => a + b, 0) / hist.length;
      const std = Math.sqrt(hist.reduce((a, b) => a + (b - mean) ** 2, 0) / hist.length);
      if (phi(gap, mean, std) >= PHI.threshold) phiFalse++;
      if (i === g.length - 1) phiDetect.push(phiDetectionMs(mean, std) / 1000);
    }
  }
  const allGaps = [...gaps.values()].flat();

  const det = summary(detections);
  const cpuMet = fleetCpu + natsCpu < TARGET_CPU_PCT;
  const detMet = det.p99 !== undefined && det.p99 <= TARGET_DETECTION_S && missed === 0;
  const falseMet = falseOffline.length === 0;
  report({
    name: "fleet-scale",
    value: round(det.p99 ?? Number.NaN),
    unit: "s detection p99",
    target: `${DEVICES} devices beating every 2 s: hub CPU < ${TARGET_CPU_PCT} % of one core, detection p99 <= ${TARGET_DETECTION_S} s, 0 false offline events over ${DURATION_S / 60} min`,
    met: cpuMet && detMet && falseMet,
    samples: detections.length,
    details: {
      met: { cpu: cpuMet, detection: detMet, noFalseOffline: falseMet },
      devices: DEVICES,
      joined,
      heartbeatsPerSecond: (DEVICES * SERVICES.length * 1000) / BEAT_MS,
      windowS: round(elapsed / 1000),
      hubCpuPctOfOneCore: { total: round(fleetCpu + natsCpu), fleetService: round(fleetCpu), natsServer: round(natsCpu) },
      fleetServiceRssMB: summary(rss),
      silenced: { devices: silenced, every: `${KILL_EVERY_S} s`, downFor: `${DOWN_S} s`, detected: expected.length, missed },
      detectionS: det,
      hubOutages: outages.map((w) => ({ what: w.what, atS: round((w.from - windowStart) / 1000), forS: round((w.to - w.from) / 1000) })),
      detectionsAroundHubOutagesS: duringOutage,
      falseOfflineEvents: falseOffline.length,
      falseOffline: falseOffline.slice(0, 10).map((o) => o.device),
      detector: `fixed timeout: offline after ${OFFLINE_AFTER_MS / 1000} s of silence, checked every 0.5 s`,
      heartbeatGapsMs: { ...summary(allGaps), n: allGaps.length },
      maxHealthyGapS: round(maxGap / 1000),
      phiAccrualOnTheSameGaps: {
        settings: PHI,
        falseAlarms: phiFalse,
        /** Through the hub's own freeze, every device's silence as the frozen detector sees it is its gap plus the freeze. */
        falseAlarmsThroughTheFreeze: [...gaps.values()].filter((g) => {
          const mean = g.reduce((a, b) => a + b, 0) / Math.max(1, g.length);
          const std = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, g.length));
          return phi(mean + STALL_S * 1000, mean, std) >= PHI.threshold;
        }).length,
        healthyGaps,
        detectionS: summary(phiDetect),
        verdict:
          phiFalse > 0
            ? `phi-accrual would have noticed a silence after ${summary(phiDetect).p50 ?? "?"} s (p50) but raised ${phiFalse} false alarms on healthy gaps; the fixed timeout raised ${falseOffline.length}`
            : `phi-accrual would have noticed a silence after ${summary(phiDetect).p50 ?? "?"} s (p50) with no false alarm on these gaps; the fixed timeout took ${det.p50 ?? "?"} s (p50)`,
        throughTheFreeze: "a frozen phi-accrual detector wakes to silences longer than its learnt rhythm allows; the timeout detector knows it was frozen (its check came late) and waits again before judging",
      },
    },
  });

  await nc.close();
  await watcher.close();
  await fleet.stop();
  await nats.dispose();
}

await main();
