import { decodeLiveFrame, type LiveControl, type LiveFrame } from "@picket/contracts/live-frame";

export type LiveInfo = Extract<LiveControl, { type: "info" }>;

export interface LiveSocketEvents {
  /** A socket opened (the first or a reconnection); the stream starts again at a keyframe. */
  opened(): void;
  control(msg: LiveControl): void;
  /** `bytes` is the whole websocket message, header included. */
  frame(f: LiveFrame, bytes: number): void;
  /** The socket closed; a new one follows after a backoff. */
  closed(): void;
}

/** The player acknowledges every this many frames (200 ms at 25 fps)… */
const ACK_EVERY_FRAMES = 5;
/** …and the last frame it got once this long has passed without an ack (the server may be waiting for it). */
const ACK_AFTER_MS = 200;
/** No frame for this long while the camera is said to be live: the socket is reopened. */
const STALL_MS = 5_000;

const isLiveControl = (v: unknown): v is LiveControl => typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string";

/**
 * The live websocket of one camera and profile (`/api/live/<device>/<profile>`), shared by the
 * WebCodecs and MSE paths: binary messages are frames (contracts/live-frame), text messages
 * JSON control. Reconnects by itself with capped exponential backoff until stopped.
 */
export class LiveSocket {
  private ws: WebSocket | undefined;
  /** When the last frame came, and whether the server last said the camera is live. */
  private lastFrameAt = 0;
  private live = false;
  private watchdog: number | undefined;
  private retryMs = 500;
  private retryTimer: number | undefined;
  private stopped = false;
  private badMessages = 0;
  /** Frames since the last ack. */
  private unacked = 0;
  private ackTimer: number | undefined;

  constructor(
    private readonly device: string,
    private readonly profile: string,
    private readonly on: LiveSocketEvents,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    window.clearTimeout(this.ackTimer);
    window.clearInterval(this.watchdog);
    this.ws?.close();
  }

  private connect(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/live/${encodeURIComponent(this.device)}/${encodeURIComponent(this.profile)}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    // A socket that says "live" but brings no frame for a while is stuck somewhere: start afresh.
    window.clearInterval(this.watchdog);
    this.watchdog = window.setInterval(() => {
      if (this.ws === ws && ws.readyState === WebSocket.OPEN && this.live && performance.now() - this.lastFrameAt > STALL_MS) ws.close();
    }, 1_000);
    ws.onopen = () => {
      this.lastFrameAt = performance.now();
      this.retryMs = 500;
      this.on.opened();
    };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      let parsed: { control: LiveControl } | { frame: LiveFrame; bytes: number } | undefined;
      try {
        if (typeof ev.data === "string") {
          const msg: unknown = JSON.parse(ev.data);
          if (isLiveControl(msg)) parsed = { control: msg };
        } else {
          parsed = { frame: decodeLiveFrame(ev.data), bytes: ev.data.byteLength };
        }
      } catch (err) {
        // A malformed message is skipped; the stream goes on with the next one.
        if (this.badMessages++ % 100 === 0) console.warn("skipped a malformed live message", err);
      }
      if (parsed === undefined) return;
      if ("control" in parsed) {
        if (parsed.control.type === "status") {
          this.live = parsed.control.state === "live";
          this.lastFrameAt = performance.now();
        }
        this.on.control(parsed.control);
      } else {
        this.lastFrameAt = performance.now();
        this.on.frame(parsed.frame, parsed.bytes);
        // Tells the server how far this viewer got: one that falls a second behind skips to a keyframe.
        const seq = parsed.frame.seq;
        const ack = () => {
          window.clearTimeout(this.ackTimer);
          this.ackTimer = undefined;
          this.unacked = 0;
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ack", seq }));
        };
        if (++this.unacked >= ACK_EVERY_FRAMES) ack();
        else {
          window.clearTimeout(this.ackTimer);
          this.ackTimer = window.setTimeout(ack, ACK_AFTER_MS);
        }
      }
    };
    ws.onclose = () => {
      if (this.stopped || this.ws !== ws) return;
      this.on.closed();
      this.retryTimer = window.setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(5_000, this.retryMs * 2);
    };
  }
}
