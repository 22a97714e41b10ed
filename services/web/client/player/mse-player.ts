import { TIMESCALE, fragment, initSegment, splitNals } from "@picket/contracts/fmp4";
import { codecOf, readAvcConfig, sameAvcConfig, toSampleData, type AvcConfig } from "@picket/contracts/h264";
import type { LiveFrame } from "@picket/contracts/live-frame";
import type { LiveInfo } from "./live-socket.js";
import { MseSink, mediaSourceClass } from "./mse-sink.js";
import { SocketPlayer, createLiveVideo } from "./player-base.js";
import type { PlayerStats } from "./stats.js";

/** A pts step outside this range starts a new stretch of the media timeline (µs). */
const MAX_STEP_US = 1_000_000;
const DEFAULT_FRAME_US = 33_333;
/** Frames remembered for telling what the screen shows (about 20 s at 30 fps). */
const REMEMBERED = 600;

/**
 * The path for browsers without WebCodecs: the same websocket frames, each wrapped as a
 * one-frame fMP4 fragment and appended to a MediaSource the moment it arrives. The media
 * timeline follows the camera's pts, so each frame shown is matched back to its capture time
 * (requestVideoFrameCallback) for the latency figure.
 */
export class MsePlayer extends SocketPlayer {
  readonly element: HTMLVideoElement;
  private info: LiveInfo | undefined;
  private config: AvcConfig | undefined;
  private sink: MseSink | undefined;
  private fragmentSeq = 1;
  /** Added to a frame's pts to place it on the media timeline; unset until the first frame. */
  private offsetUs: number | undefined;
  private lastPtsUs = 0;
  private lastMediaUs = 0;
  private frameUs = DEFAULT_FRAME_US;
  /** Capture time and sequence number by media time (ticks) of the frames appended. */
  private readonly byTick = new Map<number, { capturedUs: number; seq: number }>();
  private failures = 0;
  private retryAt = 0;
  private presented = -1;
  private stopped = false;

  constructor(device: string, profile: string, onStats: (s: PlayerStats) => void) {
    super("mse", device, profile, onStats);
    const video = createLiveVideo();
    video.addEventListener("error", () => this.sinkFailed(`video error ${video.error?.code ?? "?"}: ${video.error?.message ?? ""}`));
    this.element = video;
  }

  /** A MediaSource that takes H.264 in fMP4 (constrained baseline 3.1, what cameras send). */
  static get supported(): boolean {
    return mediaSourceClass()?.isTypeSupported('video/mp4; codecs="avc1.42E01F"') === true;
  }

  start(): void {
    if (!MsePlayer.supported) {
      this.keeper.setState("unsupported");
      return;
    }
    this.watchFrames();
    this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    this.sink?.close();
    this.element.removeAttribute("src");
    this.element.load();
  }

  protected described(info: LiveInfo): void {
    this.info = info;
    this.keeper.describe({ width: info.width, height: info.height });
  }

  protected frame(f: LiveFrame): void {
    if ((this.needKey && !f.key) || this.info === undefined) return;
    const nals = splitNals(f.data);
    if (f.key) {
      const config = readAvcConfig(nals, this.info);
      if (config !== undefined && (this.config === undefined || !sameAvcConfig(config, this.config)) && !this.open(config)) return;
    }
    const { sink, config } = this;
    if (sink === undefined || config === undefined) return;
    this.needKey = false;
    const tick = Math.round((this.place(f.ptsUs) * TIMESCALE) / 1e6);
    this.byTick.set(tick, { capturedUs: f.capturedUs, seq: f.seq });
    if (this.byTick.size > REMEMBERED) this.byTick.delete(this.byTick.keys().next().value as number);
    const durationTicks = Math.max(1, Math.round((this.frameUs * TIMESCALE) / 1e6));
    sink.append(fragment(config, this.fragmentSeq++, tick, [{ data: toSampleData(nals), duration: durationTicks, key: f.key }]), f.key ? tick / TIMESCALE : undefined);
  }

  /**
   * A frame's time on the media timeline (µs). The timeline starts at 0 and only moves on:
   * a restarted camera, or a reconnection that replays the GOP, goes on one frame after the
   * last frame appended. A frame's duration is a guess (the last pts step), since the next
   * frame is not there yet.
   */
  private place(ptsUs: number): number {
    if (this.offsetUs === undefined) {
      this.offsetUs = -ptsUs;
    } else {
      const step = ptsUs - this.lastPtsUs;
      if (step <= 0 || step > MAX_STEP_US) this.offsetUs = this.lastMediaUs + this.frameUs - ptsUs;
      else this.frameUs = Math.min(200_000, Math.max(5_000, step));
    }
    this.lastPtsUs = ptsUs;
    this.lastMediaUs = ptsUs + this.offsetUs;
    return this.lastMediaUs;
  }

  /** A new MediaSource for a new decoder configuration; false when it cannot be had (yet). */
  private open(config: AvcConfig): boolean {
    const codec = codecOf(config);
    const mime = `video/mp4; codecs="${codec}"`;
    if (mediaSourceClass()?.isTypeSupported(mime) !== true) {
      this.keeper.setState("unsupported");
      return false;
    }
    if (performance.now() < this.retryAt) return false;
    this.sink?.close();
    this.sink = new MseSink(this.element, mime, initSegment(config), (why) => this.sinkFailed(why));
    this.config = config;
    this.offsetUs = undefined;
    this.byTick.clear();
    this.fragmentSeq = 1;
    this.presented = -1;
    this.keeper.describe({ codec, width: config.width, height: config.height });
    return true;
  }

  /** Starts over with a new MediaSource at the next keyframe, backing off if failures repeat. */
  private sinkFailed(why: string): void {
    if (this.stopped || this.sink === undefined) return;
    console.warn(`MSE playback failed (${why}); starting again at the next keyframe`);
    this.sink.close();
    this.sink = undefined;
    this.config = undefined;
    this.needKey = true;
    this.failures++;
    this.retryAt = performance.now() + Math.min(5_000, 100 * 2 ** Math.min(this.failures, 6));
  }

  /** Counts the frames that reach the screen and matches each to its capture time. */
  private watchFrames(): void {
    const video = this.element;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (this.stopped) return;
      const tick = Math.round(meta.mediaTime * TIMESCALE);
      const m = this.byTick.get(tick) ?? this.byTick.get(tick - 1) ?? this.byTick.get(tick + 1);
      const frames = this.presented < 0 || meta.presentedFrames <= this.presented ? 1 : meta.presentedFrames - this.presented;
      this.presented = meta.presentedFrames;
      this.failures = 0;
      this.keeper.shown({ frames, capturedUs: m?.capturedUs, seq: m?.seq, at: performance.timeOrigin + meta.expectedDisplayTime });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
}
