import { randomBytes } from "node:crypto";
import { ClipReply, ClipRequest, encodeJson, mediaNames, subjects } from "@picket/contracts";
import { Counter, isMediaTooLarge, subscribeJson, type Logger, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";
import type { Clip } from "./event-media.js";

/** What answering clip requests needs from the camera and the media store; injected. */
export interface ClipRequestPorts {
  /**
   * Records the last `lastMs` of video before `atMs` (wall clock), recording on when the
   * camera has less; undefined when the camera gave no video by `lastMs` plus its stall time.
   */
  recordLast(id: string, atMs: number, lastMs: number): Promise<Clip | undefined>;
  put(name: string, data: Uint8Array, contentType: string): Promise<{ bytes: number }>;
  /** Holds the camera (on-demand mode) for `ms`; 0 releases the hold. */
  hold(holder: string, ms: number): void;
  /** How long ago the camera's newest frame was captured, ms; undefined before its first. */
  lastFrameAgeMs(): number | undefined;
  /** Wall clock, ms since epoch. */
  wallNowMs(): number;
}

export interface ClipResponderDeps {
  log: Logger;
  metrics: ServiceMetrics;
  ports: ClipRequestPorts;
  /** Requests being answered at once; one more is told the camera is busy (default 2). */
  maxActive?: number;
  /** A new id for a clip (its object name); default: the time in base 36 and 8 random hex digits. */
  newId?: (atMs: number) => string;
}

/** An on-demand camera is held this much longer than the clip lasts: start-up and the recorder's stall time. */
const HOLD_MARGIN_MS = 10_000;

export const newClipId = (atMs: number): string => `${Math.max(0, Math.round(atMs)).toString(36)}-${randomBytes(4).toString("hex")}`;

/**
 * Makes clips on request (the bot's `/clip`): records the last `seconds`, stores the MP4 in
 * the media store (under its quota, like event clips) and says where, or why there is none.
 * At most `maxActive` requests run at once, from acceptance to answer; more are refused at
 * once rather than queued behind minutes of recording.
 */
export function createClipResponder(deps: ClipResponderDeps) {
  const { ports } = deps;
  const log = deps.log.child({ module: "clip-requests" });
  const maxActive = deps.maxActive ?? 2;
  const newId = deps.newId ?? newClipId;
  const answered = new Counter({ name: "picket_camera_clip_requests_total", help: "Clip requests, by result", labelNames: ["result"] as const, registers: [deps.metrics.registry] });
  const pending = new Set<Promise<ClipReply>>();
  let stopped = false;

  const refuse = (result: string, error: string): ClipReply => {
    answered.inc({ result });
    return { ok: false, error };
  };

  const noVideo = (): string => {
    const age = ports.lastFrameAgeMs();
    const last = age === undefined ? "it has made none since it started" : `its last frame is ${Math.round(age / 1000)} s old`;
    return `the camera gave no video (${last}): its encoder is not running or its source is gone`;
  };

  const make = async (req: ClipRequest): Promise<ClipReply> => {
    const at = ports.wallNowMs();
    const id = newId(at);
    const holder = `clip-${id}`;
    const lastMs = req.seconds * 1000;
    ports.hold(holder, lastMs + HOLD_MARGIN_MS);
    try {
      const clip = await ports.recordLast(id, at, lastMs);
      // The camera may stop (on demand) while the clip is remuxed and stored.
      ports.hold(holder, 0);
      if (clip === undefined) {
        log.warn({ id, seconds: req.seconds }, "no clip on request: the camera gave no video");
        return refuse("no-video", noVideo());
      }
      const object = mediaNames.requestedClip(id);
      const { bytes } = await ports.put(object, clip.mp4, "video/mp4");
      answered.inc({ result: "stored" });
      log.info({ id, object, bytes, durationMs: clip.durationMs, tookMs: ports.wallNowMs() - at }, "clip on request stored");
      return { ok: true, object, bytes, durationMs: clip.durationMs, at: clip.firstFrameAt };
    } catch (err) {
      log.error({ err, id }, "could not make the clip on request");
      if (isMediaTooLarge(err)) return refuse("too-large", `the clip (${err.bytes} bytes) is larger than the whole media store; ask for fewer seconds`);
      return refuse("failed", `could not make the clip: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`);
    } finally {
      ports.hold(holder, 0);
    }
  };

  return {
    /** Answers one valid request; never rejects. */
    answer(req: ClipRequest): Promise<ClipReply> {
      if (stopped) return Promise.resolve(refuse("stopping", "the camera is stopping"));
      if (pending.size >= maxActive) return Promise.resolve(refuse("busy", `busy: ${pending.size} clips are being made already; ask again when one is sent`));
      const reply = make(req);
      pending.add(reply);
      void reply.finally(() => pending.delete(reply));
      return reply;
    },
    /** Refuses new requests and waits for the ones running (the clip recorder finishes them early on its stop). */
    async stop(): Promise<void> {
      stopped = true;
      await Promise.allSettled([...pending]);
    },
    /** Requests being answered. */
    get active(): number {
      return pending.size;
    },
  };
}

export type ClipResponder = ReturnType<typeof createClipResponder>;

/**
 * Serves `camera.clip` requests: a malformed one (not JSON, unknown keys, seconds out of
 * 1…60) gets `{ok:false,error}` at once; a valid one its ClipReply when the clip is stored.
 */
export function serveClipRequests(ctx: { nc: NatsConnection; device: string; log: Logger; metrics: ServiceMetrics }, responder: ClipResponder): Subscription {
  const log = ctx.log.child({ module: "clip-requests" });
  return subscribeJson(
    ctx.nc,
    subjects.clipRequest(ctx.device),
    ClipRequest,
    async (req, msg) => {
      if (msg.reply === undefined || msg.reply === "") {
        log.warn({ request: req }, "clip request without a reply subject ignored: no one would learn of the clip");
        return;
      }
      log.info({ request: req }, "clip requested");
      msg.respond(encodeJson(ClipReply, await responder.answer(req)));
    },
    { log, metrics: ctx.metrics },
  );
}
