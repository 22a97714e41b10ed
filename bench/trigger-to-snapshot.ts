// Trigger to snapshot: from the PIR edge to the event's still readable in the media store,
// through the real pir and camera services (camera always capturing, on the test source),
// nats-server with JetStream (events stream and object store) and ffmpeg.
// Run: npm run bench -- trigger-to-snapshot
import { setTimeout as sleep } from "node:timers/promises";
import { connectBus, createLogger } from "@picket/runtime";
import { startStack } from "../test/support/stack.js";
import { reportLatency, summary } from "./lib/result.js";
import { SnapshotProbe, TrialError, column, roundTrial, type SnapshotTrial } from "./lib/snapshot-probe.js";
import { ONE_VISIT_PER_PULSE } from "./lib/presence-env.js";

const WARMUP = 3;
const SAMPLES = 50;
const PULSE_MS = 100;
/** Between the end of one presence and the next pulse (cooldown is 0; the sensor's block time 0). */
const PAUSE_MS = 200;
const TARGET_P95_MS = 50;

const env = {
  PICKET_CAMERA_MODE: "always",
  ...ONE_VISIT_PER_PULSE,
};
const stack = await startStack({ services: ["camera", "pir"], env });
const nc = await connectBus({ url: stack.nats.url, name: "bench-trigger-to-snapshot", log: createLogger({ service: "bench", device: stack.device, level: "silent" }) });
const probe = new SnapshotProbe(nc, stack.device, stack.get("camera"));

const trials: SnapshotTrial[] = [];
const warmup: SnapshotTrial[] = [];
const failures: { trial: number; error: string; cameraLines: unknown[] }[] = [];
const listing: { before?: unknown; after?: unknown } = {};
try {
  await probe.ready();
  // The camera keeps a ring of stills: give it a few seconds of them before the first trigger.
  await sleep(2_000);
  listing.before = await probe.timeList();
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    try {
      const t = await probe.trial({ pulseMs: PULSE_MS });
      (i < WARMUP ? warmup : trials).push(t);
    } catch (err) {
      const lines = err instanceof TrialError ? err.cameraLines : [];
      failures.push({ trial: i, error: (err as Error).message, cameraLines: lines });
      console.error(`trial ${i}: ${(err as Error).message}\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
      // Let whatever presence there was end before the next pulse.
      await sleep(3_000);
    }
    await sleep(PAUSE_MS);
  }
  listing.after = await probe.timeList();
} finally {
  await probe.close();
  await nc.close();
  const codes = await stack.stop();
  const bad = Object.entries(codes).filter(([, c]) => c.code !== 0);
  if (bad.length > 0) console.error(`services exited badly: ${JSON.stringify(codes)}`);
}

const camera = stack.get("camera");
const storedLogs = camera.logs.filter((l) => l.msg === "event snapshot stored").length;
reportLatency("trigger-to-snapshot", column(trials, "readableFromEdge"), TARGET_P95_MS, {
  headline: "PirEdge.at (the debounced edge, pir service's wall clock) → openMediaReader().get(snapshots/<eventId>.jpg) returns the bytes",
  readableFromInject: summary(column(trials, "readableFromInject")),
  mediaEventFromEdge: summary(column(trials, "mediaFromEdge")),
  mediaEventFromInject: summary(column(trials, "mediaFromInject")),
  breakdownFromEdge: {
    presenceEventReceived: summary(column(trials, "eventFromEdge")),
    cameraLoggedStored: summary(column(trials, "storedLogFromEdge")),
    objectRecordReceived: summary(column(trials, "metaFromEdge")),
    mediaEventReceived: summary(column(trials, "mediaFromEdge")),
    readable: summary(column(trials, "readableFromEdge")),
  },
  readerGetMs: { ...summary(column(trials, "getMs")), note: "the reader's own get (object info, then its chunks), included in the headline" },
  readableByHalf: { first: summary(column(trials.slice(0, trials.length / 2), "readableFromEdge")), second: summary(column(trials.slice(trials.length / 2), "readableFromEdge")) },
  bucketListing: { ...listing, note: "the camera's put lists every object of the bucket (quota check) before storing; its cost grows with the number of objects" },
  trialsWithAClipStoredMeanwhile: trials.filter((t) => t.clipStoredNear > 0).map((t) => ({ eventId: t.eventId, readableFromEdge: t.readableFromEdge })),
  injectToEdgeAt: summary(column(trials, "injectToEdgeAt")),
  stillOffsetMs: { ...summary(column(trials, "stillOffsetMs")), note: "MediaEvent.at (the still's capturedUs: when its JPEG reached the camera service) minus the edge: the ring keeps 2 stills/s and takes the last one at or before the trigger" },
  snapshotBytes: summary(column(trials, "bytes")),
  failures,
  cameraSnapshotsStored: storedLogs,
  warmup: warmup.map(roundTrial),
  trials: trials.map(roundTrial),
  path: "PIR pulse published → pir (sim HC-SR501, leading-edge debounce, presence engine in pir mode) → started event stored in JetStream → camera (plain subscriber) takes the still of the trigger moment from its ring → object store put (prune check, chunks, metadata) → media event stored",
  setup: { ...env, pulseMs: PULSE_MS, pauseAfterEndMs: PAUSE_MS, camera: "test source 1280x720 25 fps, stills 2/s, motion detector 5 fps (defaults)" },
});
process.exit(failures.length > 0 ? 1 : 0);
