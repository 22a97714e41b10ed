import type Hls from "hls.js";
import { BasePlayer, createLiveVideo } from "./player-base.js";
import type { PlayerStats } from "./stats.js";

export type HlsEngine = "native" | "hls.js";

/** No progress for this long (playlist gone, camera gone) and the player loads again. */
const STALL_MS = 10_000;
const PLAYLIST_POLL_MS = 2_000;

/** The camera's LL-HLS playlist (fMP4), as the web service serves it beside the live socket. */
export const hlsUrl = (device: string, profile: string): string => `/hls/${encodeURIComponent(device)}/${encodeURIComponent(profile)}/index.m3u8`;

/** Safari's way of saying which wall-clock moment the media timeline's 0 is. */
type WithStartDate = HTMLVideoElement & { getStartDate?: () => Date };

/**
 * The capture time (ms since epoch) of the end of the playlist's last complete segment, from
 * its EXT-X-PROGRAM-DATE-TIME and the segment durations after it; undefined without one.
 */
export function playlistEdgeMs(playlist: string): number | undefined {
  let cursor: number | undefined;
  let pending = 0;
  for (const raw of playlist.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      const t = Date.parse(line.slice("#EXT-X-PROGRAM-DATE-TIME:".length));
      cursor = Number.isNaN(t) ? undefined : t;
    } else if (line.startsWith("#EXTINF:")) {
      pending = Number.parseFloat(line.slice("#EXTINF:".length)) * 1000;
    } else if (line !== "" && !line.startsWith("#")) {
      if (cursor !== undefined && Number.isFinite(pending)) cursor += pending;
      pending = 0;
    }
  }
  return cursor;
}

/**
 * The last resort: LL-HLS over plain HTTP, for browsers with neither WebCodecs nor MSE (and
 * for networks that pass no websockets). Plays natively where the browser can, else with
 * hls.js, loaded only then. Latency comes from the playlist's program date-times, which the
 * stream service sets to capture time. Loads again by itself when playback stops advancing.
 */
export class HlsPlayer extends BasePlayer {
  readonly element: HTMLVideoElement;
  private readonly url: string;
  private hls: Hls | undefined;
  private engine: HlsEngine = "native";
  private retryMs = 1_000;
  private retryTimer: number | undefined;
  private watchdog: number | undefined;
  private progress = { time: -1, at: 0 };
  /**
   * For a native player that cannot tell the date of its position: estimates of the date at
   * media time 0 (playlist edge less buffered end), and when the playlist was last polled.
   */
  private zeroDates: number[] = [];
  private polledAt = -Infinity;
  private presented = -1;
  private stopped = false;

  constructor(
    device: string,
    profile: string,
    onStats: (s: PlayerStats) => void,
    private readonly prefer: HlsEngine | "auto" = "auto",
  ) {
    super("hls", profile, onStats);
    this.url = hlsUrl(device, profile);
    const video = createLiveVideo();
    video.addEventListener("error", () => this.engine === "native" && this.retry(`video error ${video.error?.code ?? "?"}`));
    video.addEventListener("loadedmetadata", () => this.keeper.describe({ width: video.videoWidth, height: video.videoHeight }));
    this.element = video;
  }

  static nativeSupported(): boolean {
    return document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  start(): void {
    this.engine = this.prefer !== "auto" ? this.prefer : HlsPlayer.nativeSupported() ? "native" : "hls.js";
    this.keeper.describe({ engine: this.engine });
    this.watchFrames();
    this.watchdog = window.setInterval(() => this.check(), 1_000);
    void this.load();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    this.teardown();
  }

  private async load(): Promise<void> {
    if (this.stopped) return;
    this.keeper.opened();
    this.progress = { time: -1, at: performance.now() };
    this.zeroDates = [];
    const video = this.element;
    if (this.engine === "native") {
      video.src = this.url;
      return;
    }
    try {
      const { default: HlsJs } = await import("hls.js/light");
      if (this.stopped) return;
      if (!HlsJs.isSupported()) {
        this.keeper.setState("unsupported");
        return;
      }
      const hls = new HlsJs({
        lowLatencyMode: true,
        // The page's CSP allows no blob: workers; transmuxing fMP4 needs none anyway.
        enableWorker: false,
        backBufferLength: 4,
        maxLiveSyncPlaybackRate: 1.1,
      });
      this.hls = hls;
      hls.on(HlsJs.Events.ERROR, (_ev, data) => {
        if (data.fatal) this.retry(`hls.js ${data.type}: ${data.details}`);
      });
      hls.on(HlsJs.Events.FRAG_LOADED, (_ev, data) => this.keeper.received(data.payload.byteLength));
      hls.on(HlsJs.Events.LEVEL_SWITCHED, (_ev, data) => {
        const codec = hls.levels[data.level]?.videoCodec;
        if (codec !== undefined) this.keeper.describe({ codec });
      });
      hls.loadSource(this.url);
      hls.attachMedia(video);
    } catch (err) {
      this.retry(`cannot load hls.js: ${String(err)}`);
    }
  }

  private teardown(): void {
    this.hls?.destroy();
    this.hls = undefined;
    this.element.removeAttribute("src");
    this.element.load();
  }

  private retry(why: string): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    console.warn(`HLS playback stopped (${why}); loading again in ${this.retryMs} ms`);
    this.teardown();
    this.keeper.setState("reconnecting");
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = undefined;
      void this.load();
    }, this.retryMs);
    this.retryMs = Math.min(4_000, this.retryMs * 2);
  }

  /** Once a second: notice a stall, and for a native player learn the date of its position. */
  private check(): void {
    if (this.retryTimer !== undefined || this.keeper.stats.state === "unsupported") return;
    const video = this.element;
    const now = performance.now();
    if (video.currentTime !== this.progress.time) {
      if (this.progress.time >= 0) this.retryMs = 1_000;
      this.progress = { time: video.currentTime, at: now };
    } else if (now - this.progress.at > STALL_MS) {
      this.retry("no progress");
      return;
    }
    // A native player keeps its own distance from the live edge (Chromium's allows no seeking).
    if (this.engine !== "native") return;
    if (video.paused && video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) video.play().catch(() => undefined);
    if ((video as WithStartDate).getStartDate === undefined && now - this.polledAt > PLAYLIST_POLL_MS) {
      this.polledAt = now;
      fetch(this.url, { cache: "no-store" })
        .then(async (res) => (res.ok ? playlistEdgeMs(await res.text()) : undefined))
        .then((edgeMs) => {
          const ranges = video.buffered;
          if (edgeMs === undefined || ranges.length === 0) return;
          // Right while the player has fetched just what the playlist lists; off by a
          // segment either way for a moment after a new one appears, which the median hides.
          this.zeroDates.push(edgeMs - ranges.end(ranges.length - 1) * 1000);
          if (this.zeroDates.length > 9) this.zeroDates.shift();
        })
        // A failed poll only leaves the latency figure as it was; the next one tries again.
        .catch(() => undefined);
    }
  }

  /** Wall-clock capture time (ms) of the frame at the playhead, when the stream tells. */
  private playingDateMs(): number | undefined {
    const video = this.element as WithStartDate;
    if (this.hls !== undefined) return this.hls.playingDate?.getTime();
    const start = video.getStartDate?.().getTime();
    if (start !== undefined && Number.isFinite(start)) return start + video.currentTime * 1000;
    if (this.zeroDates.length === 0) return undefined;
    const sorted = [...this.zeroDates].sort((a, b) => a - b);
    return (sorted[Math.floor(sorted.length / 2)] as number) + video.currentTime * 1000;
  }

  private watchFrames(): void {
    const video = this.element;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (this.stopped) return;
      const frames = this.presented < 0 || meta.presentedFrames <= this.presented ? 1 : meta.presentedFrames - this.presented;
      this.presented = meta.presentedFrames;
      const at = performance.timeOrigin + meta.expectedDisplayTime;
      const date = this.playingDateMs();
      this.keeper.shown({ frames, at, latencyMs: date === undefined ? undefined : at - date });
      if (this.keeper.stats.width !== meta.width) this.keeper.describe({ width: meta.width, height: meta.height });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
}
