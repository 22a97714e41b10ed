import { existsSync } from "node:fs";
import { SnapshotRequest, decodeJson, splitPayload, subjects, videoHeaders, wallClockUs } from "@picket/contracts";
import {
  Counter,
  Gauge,
  reportBadMessage,
  toHeaders,
  watchConnection,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
  type Subscription,
} from "@picket/runtime";
import { buildCapturePlan } from "./capture-command.js";
import { Capture, type EncodedFrame } from "./capture.js";
import { describeSource, type Source } from "./source.js";
import { jpegSize } from "./jpeg-splitter.js";

export interface CameraServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  device: string;
  profile: string;
  source: Source;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  keyframeS: number;
  snapshotFps: number;
}

/** Room left for headers when an access unit is split to fit max_payload. */
const HEADER_ROOM = 1024;
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

/**
 * The one owner of the camera: runs the capture, publishes every access unit on the bus and
 * answers snapshot requests from stills it keeps ready.
 */
export function createCameraService(deps: CameraServiceDeps) {
  const { nc, device, profile } = deps;
  const log = deps.log.child({ module: "camera" });
  const link = watchConnection(nc);
  const subject = subjects.video(device, profile);
  let seq = 0;
  let still: { jpeg: Buffer; capturedUs: number; width: number; height: number } | undefined;
  let snapshotSub: Subscription | undefined;
  const window: { at: number; bytes: number }[] = [];

  const framesTotal = new Counter({ name: "picket_camera_frames_total", help: "Access units published", registers: [deps.metrics.registry] });
  const splitTotal = new Counter({ name: "picket_camera_split_frames_total", help: "Access units larger than max_payload, sent in parts", registers: [deps.metrics.registry] });
  const skippedTotal = new Counter({ name: "picket_camera_frames_skipped_total", help: "Access units not sent because the bus was down", registers: [deps.metrics.registry] });
  const snapshotsTotal = new Counter({ name: "picket_camera_snapshots_total", help: "Snapshot requests", labelNames: ["result"] as const, registers: [deps.metrics.registry] });
  const restartsGauge = new Gauge({ name: "picket_camera_encoder_restarts", help: "Encoder restarts since start", registers: [deps.metrics.registry] });

  const publishFrame = (f: EncodedFrame) => {
    const meta = { seq: seq++, ptsUs: f.ptsUs, capturedUs: f.capturedUs, key: f.key, codec: f.codec, width: f.width, height: f.height };
    window.push({ at: Date.now(), bytes: f.data.length });
    if (!link.connected) {
      // Live video queued during an outage would arrive stale; viewers restart at a keyframe.
      skippedTotal.inc();
      return;
    }
    const max = Math.max(4096, (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM);
    const parts = splitPayload(f.data, max);
    if (parts.length > 1) splitTotal.inc();
    parts.forEach((part, i) => {
      nc.publish(subject, part, { headers: toHeaders(videoHeaders(meta, parts.length > 1 ? { index: i + 1, count: parts.length } : undefined)) });
    });
    framesTotal.inc();
  };

  const plan = buildCapturePlan(deps.source, {
    width: deps.width,
    height: deps.height,
    fps: deps.fps,
    bitrateKbps: deps.bitrateKbps,
    gop: deps.fps * deps.keyframeS,
    snapshotFps: deps.snapshotFps,
    label: device,
    ...(existsSync(FONT) ? { fontFile: FONT } : {}),
  });
  const capture = new Capture(
    plan,
    {
      frame: publishFrame,
      still: (jpeg, capturedUs) => {
        const size = jpegSize(jpeg);
        if (size === undefined) {
          log.warn({ bytes: jpeg.length }, "encoder produced a still that is not a JPEG");
          return;
        }
        still = { jpeg, capturedUs, ...size };
      },
    },
    { log, firstFrameMs: deps.source.kind === "url" ? 30_000 : 15_000 },
  );

  const answerSnapshot = (msg: import("@picket/runtime").Msg) => {
    let req: SnapshotRequest = {};
    if (msg.data.length > 0) {
      try {
        req = decodeJson(SnapshotRequest, msg.data, msg.subject);
      } catch (err) {
        reportBadMessage({ log, metrics: deps.metrics }, subjects.snapshot(device), msg, err);
        snapshotsTotal.inc({ result: "bad-request" });
        msg.respond(new Uint8Array(0), { headers: toHeaders({ "Picket-Error": (err as Error).message }) });
        return;
      }
    }
    const error = (text: string, result: string) => {
      snapshotsTotal.inc({ result });
      msg.respond(new Uint8Array(0), { headers: toHeaders({ "Picket-Error": text }) });
    };
    if (still === undefined) return error("no picture yet: the camera is starting", "not-ready");
    const ageMs = (wallClockUs() - still.capturedUs) / 1000;
    if (req.maxAgeMs !== undefined && ageMs > req.maxAgeMs) return error(`newest picture is ${Math.round(ageMs)} ms old`, "stale");
    if (still.jpeg.length > (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM) {
      log.error({ bytes: still.jpeg.length }, "snapshot larger than the bus max_payload");
      return error("snapshot larger than the bus allows; lower the resolution", "too-large");
    }
    snapshotsTotal.inc({ result: "ok" });
    msg.respond(still.jpeg, {
      headers: toHeaders({
        "Picket-Captured-Us": String(still.capturedUs),
        "Picket-Width": String(still.width),
        "Picket-Height": String(still.height),
      }),
    });
  };

  return {
    start(): void {
      snapshotSub = nc.subscribe(subjects.snapshot(device), { callback: (err, msg) => (err === null ? answerSnapshot(msg) : log.error({ err }, "snapshot subscription")) });
      log.info({ source: describeSource(deps.source), subject, width: deps.width, height: deps.height, fps: deps.fps }, "camera starting");
      capture.start();
    },
    async stop(): Promise<void> {
      snapshotSub?.unsubscribe();
      await capture.stop();
    },
    /** Healthy while frames are fresh. */
    health() {
      const ageMs = capture.lastFrameAtUs === 0 ? undefined : Math.round((wallClockUs() - capture.lastFrameAtUs) / 1000);
      return { ok: link.connected && ageMs !== undefined && ageMs < 5_000, nats: link.connected, lastFrameAgeMs: ageMs ?? null, restarts: capture.restarts };
    },
    vitals(): Record<string, number> {
      const now = Date.now();
      while (window.length > 0 && (window[0]?.at ?? now) < now - 5_000) window.shift();
      const bytes = window.reduce((n, w) => n + w.bytes, 0);
      restartsGauge.set(capture.restarts);
      return {
        fps: Math.round((window.length / 5) * 10) / 10,
        bitrateKbps: Math.round((bytes * 8) / 5 / 1000),
        lastFrameAgeMs: capture.lastFrameAtUs === 0 ? -1 : Math.round((wallClockUs() - capture.lastFrameAtUs) / 1000),
        encoderRestarts: capture.restarts,
      };
    },
    get encoderPid(): number | undefined {
      return capture.pid;
    },
  };
}

export type CameraService = ReturnType<typeof createCameraService>;
