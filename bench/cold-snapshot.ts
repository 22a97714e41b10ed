// Cold snapshot: a PIR edge while an on-demand camera is off, to the event's still readable in
// the media store. The figure includes starting the capture (here ffmpeg on the test source;
// on a Pi, rpicam-vid's start-up dominates). Real pir and camera services, nats-server with
// JetStream. Run: npm run bench -- cold-snapshot
import { setTimeout as sleep } from "node:timers/promises";
import { subjects } from "@picket/contracts";
import { connectBus, createLogger } from "@picket/runtime";
import { startStack } from "../test/support/stack.js";
import { childrenOf } from "./lib/proc.js";
import { report, summary } from "./lib/result.js";
import { SnapshotProbe, TrialError, column, roundTrial, type SnapshotTrial } from "./lib/snapshot-probe.js";
import { ONE_VISIT_PER_PULSE } from "./lib/presence-env.js";

const WARMUP = 1;
const SAMPLES = 12;
const PULSE_MS = 100;
/**
 * After the camera stopped and its encoder exited, before the next pulse: the stills of its
 * last run must be more than the still ring's 2 s reach before the trigger, or one of them
 * would stand in for the trigger moment and the camera would not be started cold.
 */
const SETTLE_MS = 3_000;
/** Holds: PIR edge and event, 15 s (clip post-roll 10 s + 5 s), then the 1 s idle grace. */
const OFF_TIMEOUT_MS = 40_000;
const STOP_MSG = "no one needs the camera; stopping it";

const env = {
  PICKET_CAMERA_MODE: "on-demand",
  PICKET_CAMERA_IDLE_S: "1",
  ...ONE_VISIT_PER_PULSE,
};
const stack = await startStack({ services: ["camera", "pir"], env });
const camera = stack.get("camera");
const nc = await connectBus({ url: stack.nats.url, name: "bench-cold-snapshot", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });
const probe = new SnapshotProbe(nc, stack.device, camera);
/** Arrival (Date.now()) of the first part of each H.264 access unit the camera publishes: when the encoder's video flows. */
const videoArrivals: number[] = [];
nc.subscribe(subjects.video(stack.device, "high"), { callback: () => void videoArrivals.push(Date.now()) });

const logTime = (msg: string, after: number): number | undefined => {
  const line = camera.logs.find((l) => l.msg === msg && Date.parse(String(l.time)) >= after);
  return line === undefined ? undefined : Date.parse(String(line.time));
};
const encoders = () => childrenOf(camera.pid ?? -1).filter((c) => c.comm.includes("ffmpeg"));

const stopCount = () => camera.logs.filter((l) => l.msg === STOP_MSG).length;

/** Waits until the camera has said it stops (unless it never ran: `stopsBefore` undefined), its encoder is gone, and SETTLE_MS more. */
async function cameraOff(stopsBefore: number | undefined): Promise<void> {
  const deadline = Date.now() + OFF_TIMEOUT_MS;
  while (stopsBefore !== undefined && stopCount() <= stopsBefore) {
    if (Date.now() > deadline) throw new Error(`the camera did not stop within ${OFF_TIMEOUT_MS} ms`);
    await sleep(100);
  }
  while (encoders().length > 0) {
    if (Date.now() > deadline) throw new Error(`the encoder did not exit within ${OFF_TIMEOUT_MS} ms`);
    await sleep(50);
  }
  await sleep(SETTLE_MS);
  if (encoders().length > 0) throw new Error("an encoder started while nothing should need the camera");
}

type ColdTrial = SnapshotTrial & { wantedFromEdge?: number; encoderSpawnedFromEdge?: number; streamParamsFromEdge?: number; firstVideoFromEdge?: number; offForMs?: number };
const trials: ColdTrial[] = [];
const warmup: ColdTrial[] = [];
const failures: { trial: number; error: string; cameraLines: unknown[] }[] = [];
try {
  await probe.ready();
  /** Stop lines logged before the last trial; undefined while the camera never ran. */
  let stopsBefore: number | undefined;
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    await cameraOff(stopsBefore);
    stopsBefore = stopCount();
    const lastStop = camera.logs.filter((l) => l.msg === STOP_MSG).at(-1);
    const since = Date.now();
    try {
      const t = await probe.trial({ pulseMs: PULSE_MS });
      const rel = (msg: string) => {
        const w = logTime(msg, since);
        return w === undefined ? undefined : w - t.edgeAt;
      };
      const cold: ColdTrial = {
        ...t,
        wantedFromEdge: rel("camera wanted; starting it"),
        encoderSpawnedFromEdge: rel("encoder started"),
        streamParamsFromEdge: rel("stream parameters"),
        ...((v) => (v === undefined ? {} : { firstVideoFromEdge: v - t.edgeAt }))(videoArrivals.find((w) => w >= t.edgeAt)),
        ...(lastStop === undefined ? {} : { offForMs: t.edgeAt - Date.parse(String(lastStop.time)) }),
      };
      if (cold.stillOffsetMs < 0) console.error(`trial ${i}: the stored still was captured ${-cold.stillOffsetMs} ms before the edge: not a cold start`);
      (i < WARMUP ? warmup : trials).push(cold);
    } catch (err) {
      const lines = err instanceof TrialError ? err.cameraLines : [];
      failures.push({ trial: i, error: (err as Error).message, cameraLines: lines });
      console.error(`trial ${i}: ${(err as Error).message}\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
    }
  }
} finally {
  await probe.close();
  await nc.close();
  const codes = await stack.stop();
  const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
}

const readable = column(trials, "readableFromEdge");
const s = summary(readable);
const num = (key: keyof ColdTrial) => trials.map((t) => t[key]).filter((v): v is number => typeof v === "number");
report({
  name: "cold-snapshot",
  value: s.p95 ?? Number.NaN,
  unit: "ms",
  target: "none (reported); p95 shown",
  met: failures.length === 0 && trials.length >= 10 && trials.every((t) => t.stillOffsetMs >= 0),
  samples: readable.length,
  details: {
    ...s,
    headline: "PirEdge.at with the on-demand camera off (encoder exited) → openMediaReader().get(snapshots/<eventId>.jpg) returns the bytes; includes starting ffmpeg on the test source",
    readableFromInject: summary(column(trials, "readableFromInject")),
    mediaEventFromEdge: summary(column(trials, "mediaFromEdge")),
    mediaEventFromInject: summary(column(trials, "mediaFromInject")),
    breakdownFromEdge: {
      presenceEventReceived: summary(column(trials, "eventFromEdge")),
      cameraWanted: summary(num("wantedFromEdge")),
      encoderSpawned: summary(num("encoderSpawnedFromEdge")),
      encoderStreamParameters: summary(num("streamParamsFromEdge")),
      firstVideoFrameReceived: summary(num("firstVideoFromEdge")),
      stillCaptured: summary(column(trials, "stillOffsetMs")),
      cameraLoggedStored: summary(column(trials, "storedLogFromEdge")),
      objectRecordReceived: summary(column(trials, "metaFromEdge")),
      mediaEventReceived: summary(column(trials, "mediaFromEdge")),
      readable: summary(readable),
    },
    readerGetMs: summary(column(trials, "getMs")),
    cameraOffBeforeEdgeMs: summary(num("offForMs")),
    failures,
    stillsBeforeTheEdge: trials.filter((t) => t.stillOffsetMs < 0).length,
    warmup: warmup.map(roundTrial),
    trials: trials.map(roundTrial),
    note: "The still is the first one the new encoder delivers; the H.264 video flows long before it (firstVideoFrameReceived vs stillCaptured). On a Pi, rpicam-vid's start-up (sensor, ISP, AGC/AWB settling) comes on top.",
    setup: { ...env, pulseMs: PULSE_MS, settleAfterStopMs: SETTLE_MS, camera: "test source 1280x720 25 fps, stills 2/s, motion detector 5 fps, clip post-roll 10 s (defaults)" },
  },
});
process.exit(failures.length > 0 ? 1 : 0);
