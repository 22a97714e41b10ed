import { existsSync } from "node:fs";
import { CameraDemand as DemandMessage, CameraStatusEvent, MediaEvent, MotionSettings, PirEdge, SnapshotRequest, VideoHeader, decodeJson, settingsKeys, splitPayload, subjects, videoHeaders, wallClockUs, type VideoMeta } from "@picket/contracts";
import {
  Counter,
  EventRecorder,
  Gauge,
  ensureEventsStream,
  reportBadMessage,
  subscribeJson,
  watchSetting,
  type JetStreamClient,
  type KV,
  type MediaStore,
  type Msg,
  type SettingWatch,
  toHeaders,
  watchConnection,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
  type Subscription,
} from "@picket/runtime";
import { buildCapturePlan, settingsForProfiles } from "./capture-command.js";
import { Capture, type EncodedFrame } from "./capture.js";
import { describeSource, type Source } from "./source.js";
import { createCameraWatchdog } from "./camera-watchdog.js";
import { GopKeeper } from "./gop-keeper.js";
import { jpegSize } from "./jpeg-splitter.js";
import { CameraDemand } from "./demand.js";
import { createClipResponder, serveClipRequests } from "./clip-requests.js";
import { createEventMedia, type Still } from "./event-media.js";
import { ClipRecorder } from "./media/clip-recorder.js";
import { FrameRing, StillRing, frameRingMs } from "./media/frame-ring.js";
import { MotionDetector } from "./motion/motion-detector.js";
import { createMotionPublisher, parseMotionSettings } from "./motion-publisher.js";
import { describeProfile, describeWithFps, sameProfiles, type VideoProfile } from "./profiles.js";
import { presetsInForce, servePresets, storedPresets, watchPresets, type PresetsInForce } from "./quality-presets.js";
import { TEST_SCENE_CLOCK_MASK, TestScenePir } from "./test-scene-pir.js";

export interface CameraServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  device: string;
  /**
   * The configured quality profiles, each published on its own subject at its own fps. The
   * first is the camera's own picture, which clips, stills and motion use; the others are
   * smaller copies. Presets in the settings bucket replace them live.
   */
  profiles: VideoProfile[];
  source: Source;
  keyframeS: number;
  snapshotFps: number;
  mode: "always" | "on-demand";
  idleS: number;
  motionFps: number;
  motionWidth: number;
  sensitivity: number;
  preRollS: number;
  postRollS: number;
  /** Test scene: tell the sim PIR when the scene's person is in the room. */
  testScenePir: boolean;
  /** Live settings (motion masks, zones, sensitivity; quality presets). */
  settings?: KV;
  /** Where events' snapshots and clips go; without it the camera keeps no event media. */
  media?: { store: MediaStore; js: JetStreamClient };
  /** Where the camera's status events (lost, back, restarted) go: the events stream. */
  events?: JetStreamClient;
  /**
   * Seconds of a bit-identical picture after which the capture counts as frozen and is
   * restarted (default 3); 0 never checks, nor does the test scene, which can be still.
   */
  frozenS?: number;
}

/** Room left for headers when an access unit is split to fit max_payload. */
const HEADER_ROOM = 1024;
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

/** A snapshot request waits this long for a camera that runs on demand to start. */
const COLD_START_WAIT_MS = 15_000;
/**
 * A picture bit-identical for this long is frozen (a stuck sensor repeating its last frame):
 * with the restart that follows, well within the 5 s the watchdog promises.
 */
const FROZEN_S = 3;
/** Clips on request recorded at once; each holds up to a minute of video in memory. */
const CLIP_REQUESTS_AT_ONCE = 2;

/**
 * The one owner of the camera: runs the capture, publishes every access unit on the bus,
 * answers snapshot requests from stills it keeps ready, runs the motion detector on small
 * gray frames of the same capture, keeps each presence event's trigger frame and clip, and
 * makes clips of the last seconds on request. In on-demand mode the capture runs only while
 * some user holds the camera.
 */
export function createCameraService(deps: CameraServiceDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "camera" });
  const link = watchConnection(nc);
  const main = deps.profiles[0];
  if (main === undefined) throw new RangeError("a camera needs at least one profile");
  /** What is encoded now: the configured profiles until presets in the settings bucket replace them. */
  let inForce: PresetsInForce = presetsInForce(undefined, deps.profiles);
  /** Each profile's sequence continues across encoder changes, as across restarts. */
  const seqs = new Map<string, number>();
  const outputsOf = (profiles: VideoProfile[]) => profiles.map((profile) => ({ profile, subject: subjects.video(device, profile.name), window: [] as { at: number; bytes: number }[], gop: new GopKeeper() }));
  let outputs = outputsOf(inForce.profiles);
  let subs: Subscription[] = [];
  let motionWatch: SettingWatch | undefined;
  let presetsWatch: SettingWatch | undefined;
  const stills = new StillRing();
  const stillWaiters = new Set<(s: Still) => void>();
  const recorder = new ClipRecorder({
    ring: new FrameRing({ maxDurationMs: frameRingMs(deps.preRollS * 1000, deps.keyframeS * 1000) }),
    fps: main.fps,
    preRollMs: deps.preRollS * 1000,
    postRollMs: deps.postRollS * 1000,
    // Clips on request never take an event clip's place.
    maxRecordings: 4 + CLIP_REQUESTS_AT_ONCE,
    log,
  });
  // Sized once for the detector (a later first preset of another shape is squeezed into it).
  const motionFrames = deps.motionFps > 0 ? { width: deps.motionWidth, height: Math.round((deps.motionWidth * main.height) / main.width / 2) * 2, fps: deps.motionFps } : undefined;
  const initialMotion: MotionSettings = { sensitivity: deps.sensitivity, masks: [], zones: [] };
  // The test scene's burnt-in clock changes every second: never motion (as with an IP camera's
  // own timestamp overlay, which users mask in the settings).
  const builtInMasks = deps.source.kind === "test" ? [TEST_SCENE_CLOCK_MASK] : [];
  const withBuiltIns = (s: MotionSettings): MotionSettings => ({ ...s, masks: [...builtInMasks, ...s.masks] });
  const motion =
    motionFrames === undefined
      ? undefined
      : createMotionPublisher({ nc, device, log, metrics: deps.metrics, detector: new MotionDetector(motionFrames.width, motionFrames.height, withBuiltIns(initialMotion)) });
  const scenePir = deps.source.kind === "test" && deps.testScenePir ? new TestScenePir() : undefined;
  const onDemand = deps.mode === "on-demand";
  let capturing = false;
  let lastMotionFrameAt = Number.NEGATIVE_INFINITY;
  /** Starts and stops run one after the other: a new ffmpeg never races the old one for the device. */
  let transition: Promise<void> = Promise.resolve();
  // Only an on-demand camera follows its users; an always-on one ignores them.
  const demand = new CameraDemand(deps.idleS * 1000, () => {
    transition = transition
      .then(async () => {
        if (demand.wanted && !capturing) {
          capturing = true;
          log.info({ holders: demand.holders() }, "camera wanted; starting it");
          startCapture();
        } else if (!demand.wanted && capturing) {
          capturing = false;
          log.info("no one needs the camera; stopping it");
          scenePirLevel(scenePir?.reset());
          await stopCapture();
          // A GOP from before the stop would show a new watcher the past as live.
          for (const o of outputs) o.gop.clear();
        }
      })
      .catch((err: unknown) => log.error({ err }, "camera start/stop failed"));
  });
  const hold = (holder: string, ms: number) => {
    if (onDemand) demand.hold(holder, ms);
  };
  const eventMedia =
    deps.media === undefined
      ? undefined
      : createEventMedia({
          nc,
          device,
          log,
          metrics: deps.metrics,
          postRollMs: deps.postRollS * 1000,
          ports: {
            stillAt: (at) => stills.at(at),
            nextStill: (timeoutMs) => nextStill(timeoutMs),
            recordClip: (id, at) => recorder.record(id, at),
            put: (name, data, contentType) => (deps.media as { store: MediaStore }).store.put(name, data, { contentType }),
            record: (event) => mediaRecorder?.record(event) ?? Promise.resolve(false),
            hold,
          },
        });
  const clipRequests =
    deps.media === undefined
      ? undefined
      : createClipResponder({
          log,
          metrics: deps.metrics,
          maxActive: CLIP_REQUESTS_AT_ONCE,
          ports: {
            recordLast: (id, at, lastMs) => recorder.record(`request-${id}`, at, { lastMs }),
            put: (name, data, contentType) => (deps.media as { store: MediaStore }).store.put(name, data, { contentType }),
            hold,
            lastFrameAgeMs: () => (capture.lastFrameAtUs === 0 ? undefined : (wallClockUs() - capture.lastFrameAtUs) / 1000),
            wallNowMs: () => Date.now(),
          },
        });
  const mediaRecorder = deps.media === undefined ? undefined : new EventRecorder<MediaEvent>(deps.media.js, log, (e) => MediaEvent.parse(e), () => ensureEventsStream(nc));
  const statusRecorder = deps.events === undefined ? undefined : new EventRecorder<CameraStatusEvent>(deps.events, log, (e) => CameraStatusEvent.parse(e), () => ensureEventsStream(nc));

  const watchdog = createCameraWatchdog({
    device,
    source: deps.source,
    log,
    frozenS: deps.source.kind === "test" ? 0 : (deps.frozenS ?? FROZEN_S),
    ports: {
      restart: (reason) => capture.restart(reason),
      retryNow: () => capture.retryNow(),
      quiet: (on) => (capture.quiet = on),
      record: (event) => void statusRecorder?.record(event),
    },
  });
  const startCapture = () => {
    watchdog.started();
    capture.start();
  };
  const stopCapture = async () => {
    watchdog.stopped();
    await capture.stop();
  };

  /** The next still the camera makes, or undefined after `timeoutMs`. */
  const nextStill = (timeoutMs: number) =>
    new Promise<Still | undefined>((resolve) => {
      const timer = setTimeout(() => {
        stillWaiters.delete(done);
        resolve(undefined);
      }, timeoutMs);
      const done = (s: Still) => {
        clearTimeout(timer);
        stillWaiters.delete(done);
        resolve(s);
      };
      stillWaiters.add(done);
    });

  function scenePirLevel(level: 0 | 1 | undefined): void {
    if (level === undefined || !link.connected) return;
    nc.publish(subjects.pirInject(device), JSON.stringify({ level }));
  }
  const framesTotal = new Counter({ name: "picket_camera_frames_total", help: "Access units published, by profile", labelNames: ["profile"] as const, registers: [deps.metrics.registry] });
  const splitTotal = new Counter({ name: "picket_camera_split_frames_total", help: "Access units larger than max_payload, sent in parts, by profile", labelNames: ["profile"] as const, registers: [deps.metrics.registry] });
  const skippedTotal = new Counter({ name: "picket_camera_frames_skipped_total", help: "Access units not sent because the bus was down, by profile", labelNames: ["profile"] as const, registers: [deps.metrics.registry] });
  const snapshotsTotal = new Counter({ name: "picket_camera_snapshots_total", help: "Snapshot requests", labelNames: ["result"] as const, registers: [deps.metrics.registry] });
  const restartsGauge = new Gauge({ name: "picket_camera_encoder_restarts", help: "Encoder restarts since start", registers: [deps.metrics.registry] });

  /** Publishes an access unit of output `index` (a profile) on its subject; the main one also feeds the clips. */
  const publishFrame = (f: EncodedFrame, index: number) => {
    const out = outputs[index];
    if (out === undefined) return;
    if (index === 0) {
      watchdog.frame();
      recorder.push(f);
      if (scenePir !== undefined) scenePirLevel(scenePir.frame(f.runPtsMs));
    }
    const seq = seqs.get(out.profile.name) ?? 0;
    seqs.set(out.profile.name, seq + 1);
    const meta = { seq, ptsUs: f.ptsUs, capturedUs: f.capturedUs, key: f.key, codec: f.codec, width: f.width, height: f.height };
    out.window.push({ at: Date.now(), bytes: f.data.length });
    if (!link.connected) {
      // Live video queued during an outage would arrive stale; viewers restart at a keyframe.
      skippedTotal.inc({ profile: out.profile.name });
      return;
    }
    out.gop.push({ meta, data: f.data });
    if (publishUnit(out.subject, meta, f.data) > 1) splitTotal.inc({ profile: out.profile.name });
    framesTotal.inc({ profile: out.profile.name });
  };
  /** One access unit on `subject`, in parts when larger than the server takes; returns the number of parts. */
  const publishUnit = (subject: string, meta: VideoMeta, data: Uint8Array): number => {
    const max = Math.max(4096, (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM);
    const parts = splitPayload(data, max);
    parts.forEach((part, i) => {
      nc.publish(subject, part, { headers: toHeaders(videoHeaders(meta, parts.length > 1 ? { index: i + 1, count: parts.length } : undefined)) });
    });
    return parts.length;
  };
  /**
   * A new watcher's request for a profile's current GOP (subjects.cameraGop): its units on the
   * reply subject, then the end marker. Published on this connection before any later frame,
   * so the watcher gets them in order with the live ones.
   */
  const answerGop = (msg: Msg) => {
    if (msg.reply === undefined) return;
    const profile = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const units = outputs.find((o) => o.profile.name === profile)?.gop.current() ?? [];
    for (const u of units) publishUnit(msg.reply, u.meta, u.data);
    nc.publish(msg.reply, new Uint8Array(0), { headers: toHeaders({ [VideoHeader.gopEnd]: String(units.length) }) });
  };

  /** The one ffmpeg for these profiles (the first is the main picture). */
  const planFor = (profiles: VideoProfile[]) =>
    buildCapturePlan(
      deps.source,
      settingsForProfiles(profiles, {
        keyframeS: deps.keyframeS,
        snapshotFps: deps.snapshotFps,
        label: device,
        ...(motionFrames === undefined ? {} : { motion: motionFrames }),
        ...(existsSync(FONT) ? { fontFile: FONT } : {}),
      }),
    );
  let plan = planFor(inForce.profiles);
  const capture = new Capture(
    plan,
    {
      frame: publishFrame,
      still: (jpeg, capturedUs) => {
        if (jpegSize(jpeg) === undefined) {
          log.warn({ bytes: jpeg.length }, "encoder produced a still that is not a JPEG");
          return;
        }
        stills.push(jpeg, capturedUs);
        for (const wake of [...stillWaiters]) wake({ jpeg, capturedUs });
        watchdog.still(jpeg);
      },
      gray: (frame, capturedUs) => {
        lastMotionFrameAt = performance.now();
        motion?.frame(frame, capturedUs);
      },
      failed: (reason, restartInMs) => watchdog.failed(reason, restartInMs),
    },
    { log, firstFrameMs: deps.source.kind === "url" ? 30_000 : 15_000, outputNames: inForce.profiles.map((p) => p.name) },
  );

  /**
   * Presets saved (or deleted: the configured profiles again) while running: a new encoder
   * for other profiles, started cleanly after the old one stopped; only `phone`/`desktop`
   * changing needs none.
   */
  const applyPresets = (next: PresetsInForce) => {
    const before = inForce;
    inForce = next;
    if (sameProfiles(before.profiles, next.profiles)) return;
    log.info({ source: next.source, from: before.profiles.map(describeWithFps), to: next.profiles.map(describeWithFps) }, "quality presets changed; restarting the encoder");
    transition = transition
      .then(async () => {
        const running = capturing;
        if (running) await stopCapture();
        encode(next.profiles);
        if (running) startCapture();
      })
      .catch((err: unknown) => log.error({ err }, "restarting the encoder for new presets failed"));
  };
  /** The plan and outputs of the next encoder start. */
  const encode = (profiles: VideoProfile[]) => {
    plan = planFor(profiles);
    outputs = outputsOf(profiles);
    capture.replan(plan, profiles.map((p) => p.name));
  };

  const answerSnapshot = async (msg: Msg) => {
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
    /** Answers with a still: its bytes, when it was captured and its size. */
    const send = (still: Still) => {
      if (still.jpeg.length > (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM) {
        log.error({ bytes: still.jpeg.length }, "snapshot larger than the bus max_payload");
        return error("snapshot larger than the bus allows; lower the resolution", "too-large");
      }
      const size = jpegSize(still.jpeg);
      snapshotsTotal.inc({ result: "ok" });
      msg.respond(still.jpeg, {
        headers: toHeaders({ "Picket-Captured-Us": String(still.capturedUs), "Picket-Width": String(size?.width ?? 0), "Picket-Height": String(size?.height ?? 0) }),
      });
    };
    if (req.at !== undefined) {
      // An event's trigger moment: its still from the ring, or a clear no (the bot then reads the stored one).
      const moment = stills.at(req.at);
      return moment === undefined ? error("no picture of that moment", "not-kept") : send(moment);
    }
    const ageMs = () => (stills.newest === undefined ? Number.POSITIVE_INFINITY : (wallClockUs() - stills.newest.capturedUs) / 1000);
    if (onDemand && ageMs() > (req.maxAgeMs ?? 2_000)) {
      // The camera may be off: hold it and wait for its first picture.
      demand.hold("snapshot", 5_000);
      if ((await nextStill(COLD_START_WAIT_MS)) === undefined) return error("the camera did not start in time", "not-ready");
    }
    const newest = stills.newest;
    if (newest === undefined) return error("no picture yet: the camera is starting", "not-ready");
    if (req.maxAgeMs !== undefined && ageMs() > req.maxAgeMs) return error(`newest picture is ${Math.round(ageMs())} ms old`, "stale");
    return send(newest);
  };

  const ctx = { log, metrics: deps.metrics };
  return {
    async start(): Promise<void> {
      subs.push(nc.subscribe(subjects.cameraGop(device, "*"), { callback: (err, msg) => (err === null ? answerGop(msg) : log.error({ err }, "gop subscription")) }));
      subs.push(nc.subscribe(subjects.snapshot(device), { callback: (err, msg) => (err === null ? void answerSnapshot(msg).catch((e: unknown) => log.error({ err: e }, "snapshot answer failed")) : log.error({ err }, "snapshot subscription")) }));
      if (onDemand) {
        subs.push(subscribeJson(nc, subjects.cameraDemand(device), DemandMessage, (d) => demand.hold(d.holder, d.ms), ctx));
        // A PIR edge wakes the camera so the event has a picture and a clip.
        subs.push(subscribeJson(nc, subjects.pirEdge(device), PirEdge, (e) => {
          if (e.level === 1) demand.hold("pir", deps.postRollS * 1000 + 5_000);
        }, ctx));
      }
      if (motion !== undefined && deps.settings !== undefined) {
        motionWatch = await watchSetting(deps.settings, settingsKeys.motion(device), parseMotionSettings, (v) => motion.updateSettings(withBuiltIns(v ?? initialMotion)), log);
      }
      if (deps.settings !== undefined) {
        // Read before the first start, so the camera does not start twice; the watch then
        // repeats them (no change) and follows.
        inForce = await storedPresets(deps.settings, device, deps.profiles);
        encode(inForce.profiles);
        presetsWatch = await watchPresets(deps.settings, device, deps.profiles, applyPresets, log);
      }
      subs.push(servePresets(nc, device, () => inForce, log));
      eventMedia?.start();
      if (clipRequests !== undefined) subs.push(serveClipRequests({ nc, device, log, metrics: deps.metrics }, clipRequests));
      log.info(
        { source: describeSource(deps.source), subjects: outputs.map((o) => o.subject), profiles: inForce.profiles.map(describeProfile), presetsFrom: inForce.source, fps: plan.captureFps, mode: deps.mode, motion: motionFrames ?? "off", eventMedia: eventMedia !== undefined },
        "camera starting",
      );
      if (onDemand) log.info({ idleS: deps.idleS }, "camera on demand: off until a viewer, a snapshot, a PIR edge or an event needs it (no clip pre-roll, no camera motion while off)");
      else {
        capturing = true;
        startCapture();
      }
      watchdog.watchSource(() => capturing);
    },
    async stop(): Promise<void> {
      // Stopping on purpose: no picture is expected, nothing to announce.
      watchdog.close();
      for (const sub of subs) sub.unsubscribe();
      motionWatch?.stop();
      presetsWatch?.stop();
      demand.dispose();
      // Clips being recorded finish early with what they have, and are stored.
      const media = Promise.all([eventMedia?.stop(), clipRequests?.stop()]);
      await recorder.stop();
      // Storing what was recorded may not outlast the shutdown deadline (a bus not answering).
      await Promise.race([media, new Promise((r) => setTimeout(r, 3_000).unref())]);
      await Promise.all([mediaRecorder?.stop(), statusRecorder?.stop()]);
      await transition;
      await stopCapture();
    },
    /** Healthy while frames are fresh. */
    health() {
      const ageMs = capture.lastFrameAtUs === 0 ? undefined : Math.round((wallClockUs() - capture.lastFrameAtUs) / 1000);
      const framesOk = !capturing || (ageMs !== undefined && ageMs < 5_000);
      return { ok: link.connected && framesOk, nats: link.connected, capturing, source: watchdog.state, lastFrameAgeMs: ageMs ?? null, restarts: capture.restarts, holders: demand.holders(), eventMediaPending: eventMedia?.pending ?? 0 };
    },
    vitals(): Record<string, number> {
      const now = Date.now();
      const rates = outputs.map((o) => {
        while (o.window.length > 0 && (o.window[0]?.at ?? now) < now - 5_000) o.window.shift();
        const bytes = o.window.reduce((n, w) => n + w.bytes, 0);
        return { name: o.profile.name, fps: Math.round((o.window.length / 5) * 10) / 10, kbps: Math.round((bytes * 8) / 5 / 1000) };
      });
      restartsGauge.set(capture.restarts);
      return {
        // fps and bitrateKbps are the main picture's; fps_<profile> and kbps_<profile> each profile's.
        fps: rates[0]?.fps ?? 0,
        bitrateKbps: rates[0]?.kbps ?? 0,
        ...Object.fromEntries(rates.flatMap((r) => [[`fps_${r.name}`, r.fps], [`kbps_${r.name}`, r.kbps]])),
        lastFrameAgeMs: capture.lastFrameAtUs === 0 ? -1 : Math.round((wallClockUs() - capture.lastFrameAtUs) / 1000),
        encoderRestarts: capture.restarts,
        capturing: capturing ? 1 : 0,
        sourceLost: watchdog.state === "lost" ? 1 : 0,
        onDemand: onDemand ? 1 : 0,
        // Only while frames really reach the detector: a camera that is gone must not make
        // the presence service wait for motion that cannot come.
        motionFps: plan.motion !== undefined && performance.now() - lastMotionFrameAt < 3_000 ? plan.motion.fps : 0,
        clipsRecording: recorder.active,
        clipRequests: clipRequests?.active ?? 0,
        ...motion?.vitals(),
      };
    },
    get encoderPid(): number | undefined {
      return capture.pid;
    },
  };
}

export type CameraService = ReturnType<typeof createCameraService>;
