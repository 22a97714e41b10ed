import { PartAssembler, Viewer, encodeLiveFrame, wallClockUs, readVideoHeaders, subjects, type LiveControl } from "@picket/contracts";
import { Counter, Gauge, reportBadMessage, type Logger, type Msg, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";
import { GopCache } from "./gop-cache.js";
import type { BackpressureMarks, CameraDemand, ViewerSocket } from "@picket/contracts";

interface Channel {
  device: string;
  profile: string;
  sub: Subscription;
  gop: GopCache;
  viewers: Set<Viewer>;
  parts: PartAssembler;
  info: Extract<LiveControl, { type: "info" }> | undefined;
  lastSeq: number;
  live: boolean;
  lostTimer: NodeJS.Timeout | undefined;
  demandTimer: NodeJS.Timeout | undefined;
}

/** A camera in on-demand mode runs while someone holds it: a channel with viewers renews its hold. */
const DEMAND_MS = 15_000;
const DEMAND_RENEW_MS = 5_000;

export interface RelayOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  marks: BackpressureMarks;
  /** No frame for this long: viewers are told the source is lost (their sockets stay open). */
  sourceTimeoutMs: number;
  nowUs?: () => number;
}


/**
 * One bus subscription per (device, profile) that has viewers, none without: on a hub, video
 * crosses the network only while someone watches. Each frame is framed once and offered to
 * every viewer, whose own policy decides whether it is sent.
 */
export class Relay {
  private readonly channels = new Map<string, Channel>();
  private readonly log: Logger;
  private readonly nowUs: () => number;
  private readonly frames: Counter<"result">;
  private readonly skips: Counter;
  private readonly viewersGauge: Gauge;

  constructor(private readonly opts: RelayOptions) {
    this.log = opts.log.child({ module: "relay" });
    this.nowUs = opts.nowUs ?? wallClockUs;
    const registers = [opts.metrics.registry];
    this.frames = new Counter({ name: "picket_stream_frames_total", help: "Frames received from the bus", labelNames: ["result"] as const, registers });
    this.skips = new Counter({ name: "picket_stream_viewer_skips_total", help: "Times a slow viewer skipped to the next keyframe", registers });
    this.viewersGauge = new Gauge({ name: "picket_stream_viewers", help: "Connected viewers", registers });
  }

  /** Adds a viewer; it gets stream info and the cached GOP at once. */
  join(device: string, profile: string, socket: ViewerSocket): Viewer {
    const key = `${device}/${profile}`;
    let ch = this.channels.get(key);
    if (ch === undefined) {
      ch = this.open(device, profile);
      this.channels.set(key, ch);
    }
    const viewer = new Viewer(socket, this.opts.marks);
    ch.viewers.add(viewer);
    this.viewersGauge.set(this.viewerCount);
    if (ch.info !== undefined) socket.send(JSON.stringify(ch.info));
    socket.send(JSON.stringify({ type: "status", state: ch.live ? "live" : "waiting" } satisfies LiveControl));
    viewer.start(ch.gop.snapshot());
    return viewer;
  }

  leave(device: string, profile: string, viewer: Viewer): void {
    const key = `${device}/${profile}`;
    const ch = this.channels.get(key);
    if (ch === undefined) return;
    ch.viewers.delete(viewer);
    this.skips.inc(viewer.skips);
    if (ch.viewers.size === 0) {
      ch.sub.unsubscribe();
      clearTimeout(ch.lostTimer);
      this.demand(ch, false);
      this.channels.delete(key);
      this.log.info({ device, profile }, "last viewer left; unsubscribed");
    }
    this.viewersGauge.set(this.viewerCount);
  }

  get viewerCount(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.viewers.size;
    return n;
  }

  /** Subjects currently subscribed, for tests and diagnostics. */
  get subscribed(): string[] {
    return [...this.channels.values()].map((c) => subjects.video(c.device, c.profile));
  }

  get totalSkips(): number {
    let n = 0;
    for (const ch of this.channels.values()) for (const v of ch.viewers) n += v.skips;
    return n;
  }

  close(): void {
    for (const ch of this.channels.values()) {
      ch.sub.unsubscribe();
      clearTimeout(ch.lostTimer);
      this.demand(ch, false);
    }
    this.channels.clear();
  }

  private open(device: string, profile: string): Channel {
    const subject = subjects.video(device, profile);
    const ch: Channel = {
      device,
      profile,
      gop: new GopCache(),
      viewers: new Set(),
      parts: new PartAssembler(),
      info: undefined,
      lastSeq: -1,
      live: false,
      lostTimer: undefined,
      demandTimer: undefined,
      sub: this.opts.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err !== null) this.log.error({ err, subject }, "video subscription error");
          else this.onFrame(ch, msg);
        },
      }),
    };
    this.log.info({ device, profile, subject }, "first viewer; subscribed");
    this.armLost(ch);
    this.demand(ch, true);
    return ch;
  }

  private onFrame(ch: Channel, msg: Msg): void {
    let meta;
    try {
      meta = readVideoHeaders(msg.headers, msg.subject);
    } catch (err) {
      this.frames.inc({ result: "bad" });
      reportBadMessage({ log: this.log, metrics: this.opts.metrics }, "picket.*.video.*", msg, err);
      return;
    }
    const data = ch.parts.push(meta, msg.data);
    if (data === undefined) return;
    this.frames.inc({ result: "ok" });
    const resync = ch.lastSeq >= 0 && meta.seq !== ch.lastSeq + 1;
    ch.lastSeq = meta.seq;
    if (ch.info === undefined || ch.info.codec !== meta.codec || ch.info.width !== meta.width || ch.info.height !== meta.height) {
      ch.info = { type: "info", device: ch.device, profile: ch.profile, codec: meta.codec, width: meta.width, height: meta.height };
      this.broadcast(ch, JSON.stringify(ch.info));
      for (const v of ch.viewers) v.resync();
    } else if (resync) {
      // A lost frame breaks decoding until the next keyframe: skip to it rather than show
      // garbage, and keep no broken GOP for viewers who join meanwhile.
      for (const v of ch.viewers) v.resync();
      ch.gop.clear();
    }
    if (!ch.live) {
      ch.live = true;
      this.broadcast(ch, JSON.stringify({ type: "status", state: "live" } satisfies LiveControl));
    }
    this.armLost(ch);
    const frame = {
      key: meta.key,
      seq: meta.seq,
      wire: encodeLiveFrame({ key: meta.key, seq: meta.seq, ptsUs: meta.ptsUs, capturedUs: meta.capturedUs, relayedUs: this.nowUs() }, data),
    };
    ch.gop.push(frame);
    for (const v of ch.viewers) v.offer(frame);
  }

  private armLost(ch: Channel): void {
    clearTimeout(ch.lostTimer);
    ch.lostTimer = setTimeout(() => {
      if (!ch.live && ch.info !== undefined) return;
      ch.live = false;
      ch.gop.clear();
      for (const v of ch.viewers) v.resync();
      this.log.warn({ device: ch.device, profile: ch.profile }, "no video from the camera; viewers told");
      this.broadcast(ch, JSON.stringify({ type: "status", state: "source-lost" } satisfies LiveControl));
    }, this.opts.sourceTimeoutMs);
  }

  /** Holds (and keeps renewing) or releases the channel's camera, for cameras that run on demand. */
  private demand(ch: Channel, hold: boolean): void {
    clearInterval(ch.demandTimer);
    const send = (ms: number) => {
      try {
        this.opts.nc.publish(subjects.cameraDemand(ch.device), JSON.stringify({ holder: `stream-${ch.profile}`, ms } satisfies CameraDemand));
      } catch (err) {
        this.log.debug({ err }, "camera demand not sent");
      }
    };
    if (!hold) {
      send(0);
      return;
    }
    send(DEMAND_MS);
    ch.demandTimer = setInterval(() => send(DEMAND_MS), DEMAND_RENEW_MS);
  }

  private broadcast(ch: Channel, text: string): void {
    for (const v of ch.viewers) v.socket.send(text);
  }
}
