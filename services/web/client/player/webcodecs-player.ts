import type { LiveFrame } from "@picket/contracts/live-frame";
import type { LiveInfo } from "./live-socket.js";
import { SocketPlayer, createLiveVideo } from "./player-base.js";
import type { PlayerStats } from "./stats.js";

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
    const video = createLiveVideo();
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
 * The least-delay path: websocket → WebCodecs VideoDecoder → video or canvas. Starts at a
 * keyframe (the stream service sends a joining viewer the current GOP from its keyframe, so
 * the first picture comes at once), tells its latency from the capture time each frame
 * carries, and reconnects by itself.
 */
export class WebCodecsPlayer extends SocketPlayer {
  private readonly sink: FrameSink;
  private decoder: VideoDecoder | undefined;
  private info: LiveInfo | undefined;
  /** Capture time and sequence number by pts, for the frames in the decoder. */
  private readonly inFlight = new Map<number, { capturedUs: number; seq: number }>();
  private decoderErrors = 0;
  private stopped = false;

  constructor(device: string, profile: string, onStats: (s: PlayerStats) => void) {
    super("webcodecs", device, profile, onStats);
    this.sink = WebCodecsPlayer.supported ? createSink() : { element: document.createElement("canvas"), resize: () => undefined, draw: (f) => f.close() };
  }

  get element(): HTMLVideoElement | HTMLCanvasElement {
    return this.sink.element;
  }

  static get supported(): boolean {
    return typeof VideoDecoder === "function";
  }

  start(): void {
    if (!WebCodecsPlayer.supported) {
      this.keeper.setState("unsupported");
      return;
    }
    this.socket.start();
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    if (this.decoder?.state === "configured") this.decoder.close();
  }

  protected described(info: LiveInfo): void {
    const changed = this.info?.codec !== info.codec || this.info.width !== info.width || this.info.height !== info.height;
    this.info = info;
    this.keeper.describe({ codec: info.codec, width: info.width, height: info.height });
    if (changed || this.decoder === undefined) this.configure();
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
          this.keeper.setState("unsupported");
          return;
        }
        this.sink.resize(info.width, info.height);
        const decoder = new VideoDecoder({
          output: (frame) => this.draw(frame),
          error: (err) => {
            if (this.decoder !== decoder) return;
            this.decoder = undefined;
            if (err.name === "NotSupportedError") {
              this.keeper.setState("unsupported");
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
      .catch(() => this.keeper.setState("unsupported"));
  }

  protected frame(f: LiveFrame): void {
    if (this.decoder === undefined || this.decoder.state !== "configured") return;
    if (this.needKey && !f.key) return;
    // A decoder that cannot keep up skips to the next keyframe instead of drifting behind.
    if (this.decoder.decodeQueueSize > 8 && !f.key) {
      this.needKey = true;
      return;
    }
    this.needKey = false;
    this.inFlight.set(f.ptsUs, { capturedUs: f.capturedUs, seq: f.seq });
    this.decoder.decode(new EncodedVideoChunk({ type: f.key ? "key" : "delta", timestamp: f.ptsUs, data: f.data }));
  }

  private draw(frame: VideoFrame): void {
    const meta = this.inFlight.get(frame.timestamp);
    this.inFlight.delete(frame.timestamp);
    this.sink.draw(frame);
    if (this.inFlight.size > 64) this.inFlight.clear();
    this.decoderErrors = 0;
    this.keeper.shown({ capturedUs: meta?.capturedUs, seq: meta?.seq });
  }
}
