import { PartAssembler, VideoHeader, readVideoHeaders, subjects, type CameraDemand, type VideoMeta } from "@picket/contracts";
import { Counter, createInbox, reportBadMessage, type Logger, type Msg, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";

/** One whole H.264 access unit (Annex-B) as the camera published it. */
export interface AccessUnit {
  meta: VideoMeta;
  data: Uint8Array;
}

export type FrameListener = (unit: AccessUnit) => void;

interface Source {
  device: string;
  profile: string;
  sub: Subscription;
  parts: PartAssembler;
  listeners: Set<FrameListener>;
  demandTimer: NodeJS.Timeout | undefined;
  /** While the camera's current GOP is asked for: its units, and the live ones held back meanwhile. */
  seed: Seed | undefined;
}

interface Seed {
  sub: Subscription;
  parts: PartAssembler;
  units: AccessUnit[];
  held: AccessUnit[];
  timer: NodeJS.Timeout;
}

/** How long live frames wait for the camera's GOP (a camera that does not answer: an older one, or none). */
const SEED_TIMEOUT_MS = 300;

/** A camera in on-demand mode runs while someone holds it: a source with listeners renews its hold. */
const DEMAND_MS = 15_000;
const DEMAND_RENEW_MS = 5_000;

/**
 * The one producer per (device, profile) that the relay and the HLS packagers consume: one
 * bus subscription and one hold on an on-demand camera while anything listens, none without,
 * so on a hub video crosses the network once however many outputs use it.
 */
export class VideoSources {
  private readonly sources = new Map<string, Source>();
  private readonly log: Logger;
  private readonly frames: Counter<"result">;

  constructor(private readonly opts: { nc: NatsConnection; log: Logger; metrics: ServiceMetrics }) {
    this.log = opts.log.child({ module: "video-sources" });
    this.frames = new Counter({ name: "picket_stream_frames_total", help: "Frames received from the bus", labelNames: ["result"] as const, registers: [opts.metrics.registry] });
  }

  /**
   * Calls `listener` with each access unit of that camera from now on (in bus order, parts
   * joined); returns the function that stops it. The first listener subscribes and holds the
   * camera; the last one to stop unsubscribes and releases it.
   */
  attach(device: string, profile: string, listener: FrameListener): () => void {
    const key = `${device}/${profile}`;
    let src = this.sources.get(key);
    if (src === undefined) {
      src = this.open(device, profile);
      this.sources.set(key, src);
    }
    const source = src;
    source.listeners.add(listener);
    return () => {
      if (!source.listeners.delete(listener) || source.listeners.size > 0) return;
      this.shut(source);
      this.sources.delete(key);
    };
  }

  /** Subjects currently subscribed, for /healthz, tests and diagnostics. */
  get subscribed(): string[] {
    return [...this.sources.values()].map((s) => subjects.video(s.device, s.profile));
  }

  close(): void {
    for (const s of this.sources.values()) this.shut(s);
    this.sources.clear();
  }

  private open(device: string, profile: string): Source {
    const subject = subjects.video(device, profile);
    const src: Source = {
      device,
      profile,
      parts: new PartAssembler(),
      listeners: new Set(),
      demandTimer: undefined,
      seed: undefined,
      sub: this.opts.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err !== null) this.log.error({ err, subject }, "video subscription error");
          else this.onMessage(src, msg);
        },
      }),
    };
    this.log.info({ device, profile, subject }, "subscribed to video");
    this.askForGop(src);
    this.demand(src, true);
    return src;
  }

  /**
   * Asks the camera for its current GOP, so the first viewer starts at once rather than at the
   * next keyframe (up to a GOP later). The answer and the live frames come in publish order on
   * this connection: live frames are held until the answer ends, then follow its last unit.
   */
  private askForGop(src: Source): void {
    const { nc } = this.opts;
    const inbox = createInbox();
    const seed: Seed = {
      parts: new PartAssembler(),
      units: [],
      held: [],
      timer: setTimeout(() => this.endSeed(src, "timeout"), SEED_TIMEOUT_MS),
      sub: nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err !== null) return this.endSeed(src, "error");
          if (msg.headers?.get(VideoHeader.gopEnd) !== undefined && msg.headers.get(VideoHeader.gopEnd) !== "") return this.endSeed(src, "answered");
          try {
            const meta = readVideoHeaders(msg.headers, msg.subject);
            const data = seed.parts.push(meta, msg.data);
            if (data !== undefined) seed.units.push({ meta, data });
          } catch (err) {
            reportBadMessage({ log: this.log, metrics: this.opts.metrics }, "camera GOP answer", msg, err);
          }
        },
      }),
    };
    src.seed = seed;
    try {
      nc.publish(subjects.cameraGop(src.device, src.profile), new Uint8Array(0), { reply: inbox });
    } catch (err) {
      this.log.debug({ err }, "GOP request not sent");
      this.endSeed(src, "error");
    }
  }

  /** Delivers the camera's GOP, then the live frames held meanwhile that come after it. */
  private endSeed(src: Source, how: "answered" | "timeout" | "error"): void {
    const seed = src.seed;
    if (seed === undefined) return;
    src.seed = undefined;
    clearTimeout(seed.timer);
    seed.sub.unsubscribe();
    const last = seed.units.at(-1)?.meta.seq;
    const live = last === undefined ? seed.held : seed.held.filter((u) => u.meta.seq > last);
    if (how !== "answered") this.log.debug({ device: src.device, profile: src.profile, how }, "no GOP from the camera; starting at its next keyframe");
    for (const unit of [...seed.units, ...live]) this.deliver(src, unit);
  }

  private shut(src: Source): void {
    if (src.seed !== undefined) {
      clearTimeout(src.seed.timer);
      src.seed.sub.unsubscribe();
      src.seed = undefined;
    }
    src.sub.unsubscribe();
    this.demand(src, false);
    this.log.info({ device: src.device, profile: src.profile }, "no one watches; unsubscribed from video");
  }

  private onMessage(src: Source, msg: Msg): void {
    let meta;
    try {
      meta = readVideoHeaders(msg.headers, msg.subject);
    } catch (err) {
      this.frames.inc({ result: "bad" });
      reportBadMessage({ log: this.log, metrics: this.opts.metrics }, "picket.*.video.*", msg, err);
      return;
    }
    const data = src.parts.push(meta, msg.data);
    if (data === undefined) return;
    this.frames.inc({ result: "ok" });
    const unit: AccessUnit = { meta, data };
    if (src.seed !== undefined) src.seed.held.push(unit);
    else this.deliver(src, unit);
  }

  private deliver(src: Source, unit: AccessUnit): void {
    const { meta } = unit;
    for (const listener of src.listeners) {
      // One output failing on a frame must not starve the others.
      try {
        listener(unit);
      } catch (err) {
        this.log.error({ err, device: src.device, profile: src.profile, seq: meta.seq }, "a video consumer failed on a frame");
      }
    }
  }

  /** Holds (and keeps renewing) or releases the source's camera, for cameras that run on demand. */
  private demand(src: Source, hold: boolean): void {
    clearInterval(src.demandTimer);
    const send = (ms: number) => {
      try {
        this.opts.nc.publish(subjects.cameraDemand(src.device), JSON.stringify({ holder: `stream-${src.profile}`, ms } satisfies CameraDemand));
      } catch (err) {
        this.log.debug({ err }, "camera demand not sent");
      }
    };
    if (!hold) {
      send(0);
      return;
    }
    send(DEMAND_MS);
    src.demandTimer = setInterval(() => send(DEMAND_MS), DEMAND_RENEW_MS);
  }
}
