import { Viewer, encodeLiveFrame, wallClockUs, type LiveControl } from "@picket/contracts";
import { Counter, Gauge, Histogram, type Logger, type ServiceMetrics } from "@picket/runtime";
import { GopCache } from "./gop-cache.js";
import type { AccessUnit, VideoSources } from "./video-sources.js";
import type { BackpressureMarks, ViewerSocket } from "@picket/contracts";

interface Channel {
  device: string;
  profile: string;
  detach: () => void;
  gop: GopCache;
  viewers: Set<Viewer>;
  info: Extract<LiveControl, { type: "info" }> | undefined;
  lastSeq: number;
  live: boolean;
  /** The camera went quiet after sending video (not merely not started yet). */
  lost: boolean;
  lostTimer: NodeJS.Timeout | undefined;
  /** Why the camera no longer has this profile (its presets left it out); its frames are dropped meanwhile. */
  gone: string | undefined;
}

export interface RelayOptions {
  sources: VideoSources;
  log: Logger;
  metrics: ServiceMetrics;
  marks: BackpressureMarks;
  /** No frame for this long: viewers are told the source is lost (their sockets stay open). */
  sourceTimeoutMs: number;
  nowUs?: () => number;
}

/**
 * Websocket viewers of each (device, profile): the channel listens to the video source while
 * it has viewers and lets go when the last one leaves. Each frame is framed once and offered
 * to every viewer, whose own policy decides whether it is sent.
 */
export class Relay {
  private readonly channels = new Map<string, Channel>();
  private readonly log: Logger;
  private readonly nowUs: () => number;
  private readonly skips: Counter;
  private skipCount = 0;
  private readonly viewersGauge: Gauge;
  private readonly liveLatency: Histogram<"device">;

  constructor(private readonly opts: RelayOptions) {
    this.log = opts.log.child({ module: "relay" });
    this.nowUs = opts.nowUs ?? wallClockUs;
    const registers = [opts.metrics.registry];
    this.skips = new Counter({ name: "picket_stream_viewer_skips_total", help: "Times a slow viewer skipped to the next keyframe", registers });
    this.viewersGauge = new Gauge({ name: "picket_stream_viewers", help: "Connected viewers", registers });
    // Labelled by camera: a hub relays many, and its own default `device` label gives way.
    this.liveLatency = new Histogram({
      name: "picket_stream_live_latency_seconds",
      help: "From the camera capturing a frame (its clock) to the stream service sending it to that camera's viewers",
      labelNames: ["device"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  /** Adds a viewer; it gets stream info and the cached GOP at once. */
  join(device: string, profile: string, socket: ViewerSocket, onSkip?: () => void): Viewer {
    const key = `${device}/${profile}`;
    let ch = this.channels.get(key);
    if (ch === undefined) {
      ch = this.open(device, profile);
      this.channels.set(key, ch);
    }
    const viewer = new Viewer(socket, this.opts.marks, undefined, () => {
      this.skipCount++;
      this.skips.inc();
      onSkip?.();
    });
    ch.viewers.add(viewer);
    this.viewersGauge.set(this.viewerCount);
    if (ch.info !== undefined && ch.gone === undefined) socket.send(JSON.stringify(ch.info));
    socket.send(JSON.stringify(statusOf(ch)));
    viewer.start(ch.gop.snapshot());
    return viewer;
  }

  /**
   * The profiles a camera has from now on (its quality presets changed), or undefined when
   * it uses its own configuration. Viewers of a profile it no longer has are told at once
   * (source-lost, with why) and keep their sockets; should the profile come back, its video
   * resumes for them. (A viewer who asks for such a profile later waits, and is told it is
   * lost when no video comes, as for any silent profile.)
   */
  presetsChanged(device: string, profiles: readonly string[] | undefined): void {
    for (const ch of this.channels.values()) {
      if (ch.device !== device) continue;
      const gone = goneReason(ch.profile, profiles);
      if (gone === ch.gone) continue;
      ch.gone = gone;
      if (gone === undefined) {
        // Back: the next frame makes the channel live again.
        this.armLost(ch);
        continue;
      }
      clearTimeout(ch.lostTimer);
      ch.live = false;
      ch.lost = true;
      ch.info = undefined;
      ch.lastSeq = -1;
      ch.gop.clear();
      for (const v of ch.viewers) v.resync();
      this.log.info({ device, profile: ch.profile, viewers: ch.viewers.size }, "profile removed from the camera's presets; viewers told");
      this.broadcast(ch, JSON.stringify(statusOf(ch)));
    }
  }

  leave(device: string, profile: string, viewer: Viewer): void {
    const key = `${device}/${profile}`;
    const ch = this.channels.get(key);
    if (ch === undefined) return;
    ch.viewers.delete(viewer);
    if (ch.viewers.size === 0) {
      ch.detach();
      clearTimeout(ch.lostTimer);
      this.channels.delete(key);
      this.log.info({ device, profile }, "last viewer left");
    }
    this.viewersGauge.set(this.viewerCount);
  }

  get viewerCount(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.viewers.size;
    return n;
  }

  /** Skips of every viewer since start (a slow viewer skipping to the next keyframe), counted as they happen. */
  get totalSkips(): number {
    return this.skipCount;
  }

  close(): void {
    for (const ch of this.channels.values()) {
      ch.detach();
      clearTimeout(ch.lostTimer);
    }
    this.channels.clear();
  }

  private open(device: string, profile: string): Channel {
    const ch: Channel = {
      device,
      profile,
      detach: () => undefined,
      gop: new GopCache(),
      viewers: new Set(),
      info: undefined,
      lastSeq: -1,
      live: false,
      lost: false,
      lostTimer: undefined,
      gone: undefined,
    };
    ch.detach = this.opts.sources.attach(device, profile, (unit) => this.onFrame(ch, unit));
    this.log.info({ device, profile }, "first viewer");
    this.armLost(ch);
    return ch;
  }

  private onFrame(ch: Channel, { meta, data }: AccessUnit): void {
    // The old encoder's last frames, after the presets dropped this profile.
    if (ch.gone !== undefined) return;
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
      ch.lost = false;
      this.broadcast(ch, JSON.stringify({ type: "status", state: "live" } satisfies LiveControl));
    }
    this.armLost(ch);
    const relayedUs = this.nowUs();
    const frame = {
      key: meta.key,
      seq: meta.seq,
      wire: encodeLiveFrame({ key: meta.key, seq: meta.seq, ptsUs: meta.ptsUs, capturedUs: meta.capturedUs, relayedUs }, data),
    };
    if (ch.viewers.size > 0) this.liveLatency.observe({ device: ch.device }, Math.max(0, relayedUs - meta.capturedUs) / 1e6);
    ch.gop.push(frame);
    for (const v of ch.viewers) v.offer(frame);
  }

  private armLost(ch: Channel): void {
    clearTimeout(ch.lostTimer);
    ch.lostTimer = setTimeout(() => {
      if (!ch.live && ch.info !== undefined) return;
      ch.live = false;
      ch.lost = true;
      ch.gop.clear();
      for (const v of ch.viewers) v.resync();
      this.log.warn({ device: ch.device, profile: ch.profile }, "no video from the camera; viewers told");
      this.broadcast(ch, JSON.stringify({ type: "status", state: "source-lost" } satisfies LiveControl));
    }, this.opts.sourceTimeoutMs);
  }

  private broadcast(ch: Channel, text: string): void {
    for (const v of ch.viewers) v.socket.send(text);
  }
}

function statusOf(ch: Channel): LiveControl {
  if (ch.gone !== undefined) return { type: "status", state: "source-lost", detail: ch.gone };
  return { type: "status", state: ch.live ? "live" : ch.lost ? "source-lost" : "waiting" };
}

/** Why `profile` is not among a camera's `profiles`, or undefined when it is (or the camera has no presets). */
function goneReason(profile: string, profiles: readonly string[] | undefined): string | undefined {
  if (profiles === undefined || profiles.includes(profile)) return undefined;
  return `the camera's quality presets no longer include ${profile} (they are ${profiles.join(", ")})`;
}
