/** The three ways the page can play a camera, in order of delay: least first. */
export type PlayerPath = "webcodecs" | "mse" | "hls";

export type PlayerState = "connecting" | "waiting" | "live" | "source-lost" | "reconnecting" | "unsupported";

export interface PlayerStats {
  path: PlayerPath;
  /** What plays it within the path: "native" or "hls.js" for HLS, empty otherwise. */
  engine: string;
  state: PlayerState;
  /** Frames shown since the page opened. */
  decoded: number;
  fps: number;
  /** Received video, kbit/s; 0 when the path cannot tell. */
  kbps: number;
  /** Capture (camera) to shown (here), ms, newest frame; 0 until known. */
  latencyMs: number;
  profile: string;
  codec: string;
  width: number;
  height: number;
}

/** How the latest (re)connection started: what a viewer joining mid-GOP sees first, and when. */
export interface JoinTiming {
  /** Wall clock (ms since epoch) when the socket or playlist was opened. */
  openedAt: number;
  /** Sequence number of the first frame received on it; -1 until then (and always for HLS). */
  firstReceivedSeq: number;
  /** Sequence number of the first frame shown after it opened; -1 until then or when unknown. */
  firstShownSeq: number;
  /** Milliseconds from opening to the first frame shown; -1 until then. */
  firstShownMs: number;
}

/** One player of one camera, whatever the path: the page places `element` and reads `stats`. */
export interface Player {
  readonly element: HTMLVideoElement | HTMLCanvasElement;
  readonly stats: PlayerStats;
  /** Recent capture-to-shown latencies (ms), for the overlay and for measurement. */
  readonly latencies: number[];
  readonly join: JoinTiming;
  start(): void;
  stop(): void;
}

export const wallMs = (): number => performance.timeOrigin + performance.now();

const RATE_WINDOW_MS = 2_000;

/**
 * The figures every path reports: shown frames, received bytes, latency and the join timing.
 * Rates are over the span actually seen, so the first second after connecting reads right.
 */
export class StatsKeeper {
  readonly stats: PlayerStats;
  readonly latencies: number[] = [];
  readonly join: JoinTiming = { openedAt: 0, firstReceivedSeq: -1, firstShownSeq: -1, firstShownMs: -1 };
  private shownAt: number[] = [];
  private bytes: { at: number; n: number }[] = [];

  constructor(
    path: PlayerPath,
    profile: string,
    private readonly onStats: (s: PlayerStats) => void,
  ) {
    this.stats = { path, engine: "", state: "connecting", decoded: 0, fps: 0, kbps: 0, latencyMs: 0, profile, codec: "", width: 0, height: 0 };
  }

  /** A new socket or playlist load: the next frames shown count as a fresh join. */
  opened(): void {
    Object.assign(this.join, { openedAt: wallMs(), firstReceivedSeq: -1, firstShownSeq: -1, firstShownMs: -1 });
  }

  received(bytes: number, seq = -1): void {
    const now = wallMs();
    this.bytes.push({ at: now, n: bytes });
    while ((this.bytes[0]?.at ?? now) < now - RATE_WINDOW_MS) this.bytes.shift();
    if (this.join.firstReceivedSeq < 0) this.join.firstReceivedSeq = seq;
    const spanS = Math.max(0.2, (now - (this.bytes[0]?.at ?? now)) / 1000);
    this.stats.kbps = Math.round((this.bytes.reduce((n, b) => n + b.n, 0) * 8) / spanS / 1000);
  }

  /**
   * `frames` frames reached the screen (more than one when the compositor skipped some);
   * `capturedUs` is the newest one's capture time when known, `seq` its sequence number.
   */
  shown(opts: { frames?: number; capturedUs?: number; seq?: number; latencyMs?: number; at?: number } = {}): void {
    const now = opts.at ?? wallMs();
    this.stats.decoded += opts.frames ?? 1;
    if (this.join.firstShownMs < 0 && this.join.openedAt > 0) {
      this.join.firstShownMs = Math.round(now - this.join.openedAt);
      this.join.firstShownSeq = opts.seq ?? -1;
    }
    const latency = opts.latencyMs ?? (opts.capturedUs !== undefined ? now - opts.capturedUs / 1000 : undefined);
    if (latency !== undefined && Number.isFinite(latency)) {
      this.stats.latencyMs = Math.round(latency * 10) / 10;
      this.latencies.push(this.stats.latencyMs);
      if (this.latencies.length > 2000) this.latencies.splice(0, 1000);
    }
    this.shownAt.push(now);
    while ((this.shownAt[0] ?? now) < now - RATE_WINDOW_MS) this.shownAt.shift();
    const spanS = Math.max(0.2, (now - (this.shownAt[0] ?? now)) / 1000);
    this.stats.fps = Math.round(((this.shownAt.length - 1) / spanS) * 10) / 10;
    // The last frames buffered may still show after the camera was reported gone; the
    // stream says "live" again when it is back.
    if (this.stats.state !== "live" && this.stats.state !== "source-lost") this.stats.state = "live";
    this.onStats(this.stats);
  }

  describe(info: Partial<Pick<PlayerStats, "codec" | "width" | "height" | "engine" | "profile">>): void {
    Object.assign(this.stats, info);
    this.onStats(this.stats);
  }

  setState(state: PlayerState): void {
    if (this.stats.state === state) return;
    this.stats.state = state;
    this.onStats(this.stats);
  }
}
