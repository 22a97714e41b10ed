import { decodeLiveFrame, type LiveControl } from "@picket/contracts/live-frame";

export interface PlayerStats {
  state: "connecting" | "waiting" | "live" | "source-lost" | "reconnecting" | "unsupported";
  decoded: number;
  fps: number;
  kbps: number;
  /** Capture (camera) to decoded (here), ms, newest frame. */
  latencyMs: number;
  profile: string;
  codec: string;
  width: number;
  height: number;
}

const wallMs = () => performance.timeOrigin + performance.now();

/** Where decoded frames go: a <video> fed by a track generator, or a canvas. */
interface FrameSink {
  readonly element: HTMLVideoElement | HTMLCanvasElement;
  resize(width: number, height: number): void;
  /** Takes ownership of the frame. */
  draw(frame: VideoFrame): void;
}

interface TrackGenerator extends MediaStreamTrack {
  writable: WritableStream<VideoFrame>;
}
declare const MediaStreamTrackGenerator: { new (init: { kind: "video" }): TrackGenerator } | undefined;

/**
 * Chromium's MediaStreamTrackGenerator hands frames to the video compositor off the main
 * thread (measured here: ~1 ms from decode to display against ~50 ms for a software 2D
 * canvas); elsewhere frames are drawn on a canvas, which GPUs do quickly.
 */
function createSink(): FrameSink {
  if (typeof MediaStreamTrackGenerator === "function") {
    const generator = new MediaStreamTrackGenerator({ kind: "video" });
    const writer = generator.writable.getWriter();
    const video = document.createElement("video");
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([generator]);
    let pending = 0;
    return {
      element: video,
      resize: () => undefined,
      draw(frame) {
        // Never queue: if the compositor is behind, drop this frame.
        if (pending > 1) {
          frame.close();
          return;
        }
        pending++;
        writer.write(frame).then(
          () => pending--,
          () => pending--,
        );
      },
    };
  }
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { alpha: false, desynchronized: true });
  if (ctx === null) throw new Error("no 2D canvas");
  return {
    element: canvas,
    resize(width, height) {
      canvas.width = width;
      canvas.height = height;
    },
    draw(frame) {
      ctx.drawImage(frame, 0, 0, canvas.width, canvas.height);
      frame.close();
    },
  };
}

/**
 * Plays one camera's live stream: websocket → WebCodecs VideoDecoder → video or canvas. Starts at a
 * keyframe, tells its latency from the capture time each frame carries, and reconnects by
 * itself with backoff.
 */
export class LivePlayer {
  readonly stats: PlayerStats;
  /** Recent latencies (ms) for the overlay and for measurement. */
  readonly latencies: number[] = [];
  private ws: WebSocket | undefined;
  private decoder: VideoDecoder | undefined;
  private info: Extract<LiveControl, { type: "info" }> | undefined;
  private needKey = true;
  private readonly captured = new Map<number, number>();
  private readonly sink: FrameSink;
  private retryMs = 500;
  private decoderErrors = 0;
  private retryTimer: number | undefined;
  private stopped = false;
  private window: { at: number; bytes: number }[] = [];

  constructor(
    private readonly device: string,
    private readonly profile: string,
    private readonly onStats: (s: PlayerStats) => void,
  ) {
    this.sink = LivePlayer.supported ? createSink() : { element: document.createElement("canvas"), resize: () => undefined, draw: (f) => f.close() };
    this.stats = { state: "connecting", decoded: 0, fps: 0, kbps: 0, latencyMs: 0, profile, codec: "", width: 0, height: 0 };
  }

  /** The element showing the picture; the caller places it. */
  get element(): HTMLVideoElement | HTMLCanvasElement {
    return this.sink.element;
  }

  static get supported(): boolean {
    return typeof VideoDecoder === "function";
  }

  start(): void {
    if (!LivePlayer.supported) {
      this.setState("unsupported");
      return;
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.ws?.close();
    if (this.decoder?.state === "configured") this.decoder.close();
  }

  private connect(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/live/${encodeURIComponent(this.device)}/${encodeURIComponent(this.profile)}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.needKey = true;
    ws.onopen = () => {
      this.retryMs = 500;
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      if (typeof ev.data === "string") this.control(JSON.parse(ev.data) as LiveControl);
      else this.frame(ev.data);
    };
    ws.onclose = () => {
      if (this.stopped) return;
      this.setState("reconnecting");
      this.retryTimer = window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(5_000, this.retryMs * 2);
    };
  }

  private control(msg: LiveControl): void {
    if (msg.type === "info") {
      const changed = this.info?.codec !== msg.codec || this.info.width !== msg.width || this.info.height !== msg.height;
      this.info = msg;
      Object.assign(this.stats, { codec: msg.codec, width: msg.width, height: msg.height });
      if (changed || this.decoder === undefined) this.configure();
    } else if (msg.type === "status") {
      this.setState(msg.state);
      if (msg.state !== "live") this.needKey = true;
    }
  }

  private configure(): void {
    const info = this.info;
    if (info === undefined) return;
    if (this.decoder !== undefined && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = undefined;
    this.needKey = true;
    const config: VideoDecoderConfig = { codec: info.codec, optimizeForLatency: true };
    VideoDecoder.isConfigSupported(config)
      .then((support) => {
        if (this.info !== info || this.stopped) return;
        if (support.supported !== true) {
          this.setState("unsupported");
          return;
        }
        this.sink.resize(info.width, info.height);
        const decoder = new VideoDecoder({
          output: (frame) => this.draw(frame),
          error: (err) => {
            if (this.decoder !== decoder) return;
            this.decoder = undefined;
            if (err.name === "NotSupportedError") {
              this.setState("unsupported");
              return;
            }
            // Restart at the next keyframe, backing off if errors repeat.
            this.decoderErrors++;
            console.warn("decoder error; restarting at the next keyframe", err);
            window.setTimeout(() => this.info === info && this.configure(), Math.min(5_000, 100 * 2 ** Math.min(this.decoderErrors, 6)));
          },
        });
        decoder.configure(config);
        this.decoder = decoder;
      })
      .catch(() => this.setState("unsupported"));
  }

  private frame(buf: ArrayBuffer): void {
    const f = decodeLiveFrame(buf);
    const now = wallMs();
    this.window.push({ at: now, bytes: buf.byteLength });
    while ((this.window[0]?.at ?? now) < now - 2_000) this.window.shift();
    if (this.decoder === undefined || this.decoder.state !== "configured") return;
    if (this.needKey && !f.key) return;
    // A decoder that cannot keep up skips to the next keyframe instead of drifting behind.
    if (this.decoder.decodeQueueSize > 8 && !f.key) {
      this.needKey = true;
      return;
    }
    this.needKey = false;
    this.captured.set(f.ptsUs, f.capturedUs);
    this.decoder.decode(new EncodedVideoChunk({ type: f.key ? "key" : "delta", timestamp: f.ptsUs, data: f.data }));
  }

  private draw(frame: VideoFrame): void {
    const capturedUs = this.captured.get(frame.timestamp);
    this.captured.delete(frame.timestamp);
    const now = wallMs();
    this.sink.draw(frame);
    this.stats.decoded++;
    if (capturedUs !== undefined) {
      this.stats.latencyMs = Math.round((now - capturedUs / 1000) * 10) / 10;
      this.latencies.push(this.stats.latencyMs);
      if (this.latencies.length > 2000) this.latencies.splice(0, 1000);
    }
    if (this.captured.size > 64) this.captured.clear();
    if (this.stats.state !== "live") this.setState("live");
    this.decoderErrors = 0;
    // Rates over the span actually seen, so the first second after connecting reads right.
    const spanS = Math.max(0.2, (now - (this.window[0]?.at ?? now)) / 1000);
    this.stats.fps = Math.round(((this.window.length - 1) / spanS) * 10) / 10;
    this.stats.kbps = Math.round((this.window.reduce((n, w) => n + w.bytes, 0) * 8) / spanS / 1000);
    this.onStats(this.stats);
  }

  private setState(state: PlayerStats["state"]): void {
    this.stats.state = state;
    this.onStats(this.stats);
  }
}
