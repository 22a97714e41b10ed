/** A live frame ready to send: its key flag, sequence, and the bytes as framed for the socket. */
export interface CachedFrame {
  key: boolean;
  seq: number;
  /** The frame as sent to viewers (live-frame header + Annex-B). */
  wire: Uint8Array;
}

/** What the relay needs of a viewer's socket. */
export interface ViewerSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array | string): void;
}

export interface BackpressureMarks {
  /** Above this many queued bytes the viewer skips to the next keyframe. */
  highBytes: number;
  /** A skipping viewer resumes at a keyframe only once its queue is below this. */
  lowBytes: number;
  /**
   * A viewer that acknowledges frames (`{"type":"ack","seq":N}`) and has a frame sent this
   * long ago still unacknowledged is behind, whatever the socket's own queue says: the
   * kernel's buffers hold megabytes before that queue grows. Default 1000 ms.
   */
  maxLagMs?: number;
}

/** What a viewer may send: the newest frame it has received, every few frames. */
export type ViewerMessage = { type: "ack"; seq: number };

/** Reads a viewer's message; undefined for anything else (which is ignored). */
export function parseViewerMessage(data: unknown): ViewerMessage | undefined {
  const text = typeof data === "string" ? data : data instanceof Uint8Array && data.length <= 256 ? new TextDecoder().decode(data) : undefined;
  if (text === undefined || text.length > 256) return undefined;
  try {
    const m = JSON.parse(text) as { type?: unknown; seq?: unknown };
    return m.type === "ack" && typeof m.seq === "number" && Number.isSafeInteger(m.seq) && m.seq >= 0 ? { type: "ack", seq: m.seq } : undefined;
  } catch {
    return undefined;
  }
}

/** What the pinger needs of a websocket (the `ws` package's WebSocket has it). */
export interface PingableSocket {
  ping(): void;
  terminate(): void;
  on(event: "pong", listener: () => void): unknown;
}

/**
 * Finds dead viewers (a phone that dropped off the network) by ping within two intervals
 * instead of TCP's minutes: every `intervalMs` each socket is pinged, and one that did not
 * answer the previous ping is terminated. `track` each socket as it connects.
 */
export function startPinger(sockets: () => Iterable<PingableSocket>, intervalMs = 15_000): { track(socket: PingableSocket): void; stop(): void } {
  const waiting = new WeakSet<PingableSocket>();
  const timer = setInterval(() => {
    for (const socket of sockets()) {
      if (waiting.has(socket)) {
        socket.terminate();
        continue;
      }
      waiting.add(socket);
      socket.ping();
    }
  }, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    track(socket) {
      socket.on("pong", () => waiting.delete(socket));
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * One viewer's send policy, used wherever live frames meet a socket (the stream service, and
 * the web service's proxy, which sits in front of the browser's socket). A viewer that falls behind (socket queue over the high mark)
 * stops getting frames and resumes at the next keyframe once its queue has drained, so it
 * always decodes from a clean state and never holds anyone else up. Pure apart from the socket.
 */
export class Viewer {
  /** Waiting for a keyframe: at start and after falling behind. */
  private needKey = true;
  skips = 0;
  sent = 0;
  /** Frames sent and not yet acknowledged, oldest first (only once the viewer has acked). */
  private unacked: { seq: number; at: number }[] = [];
  private acks = false;

  constructor(
    readonly socket: ViewerSocket,
    private readonly marks: BackpressureMarks,
    /** Monotonic ms, injected by tests. */
    private readonly now: () => number = () => performance.now(),
    /** Called at each skip, for a live count. */
    private readonly onSkip?: () => void,
  ) {}

  /** Sends the cached GOP so the first picture appears at once. */
  start(gop: readonly CachedFrame[]): void {
    for (const f of gop) this.offer(f);
  }

  /** Offers a frame; returns whether it was sent. */
  offer(frame: CachedFrame): boolean {
    if (this.needKey) {
      if (!frame.key || this.socket.bufferedAmount > this.marks.lowBytes || this.lagging()) return false;
      this.needKey = false;
    } else if (this.socket.bufferedAmount > this.marks.highBytes || this.lagging()) {
      this.needKey = true;
      this.skips++;
      this.onSkip?.();
      return false;
    }
    this.socket.send(frame.wire);
    this.sent++;
    if (this.acks) {
      this.unacked.push({ seq: frame.seq, at: this.now() });
      // A viewer that stopped acking is lagging anyway; the list stays bounded.
      if (this.unacked.length > 1_000) this.unacked.shift();
    }
    return true;
  }

  /** The viewer has received every frame up to `seq`. */
  ack(seq: number): void {
    this.acks = true;
    let i = 0;
    while (i < this.unacked.length && (this.unacked[i] as { seq: number }).seq <= seq) i++;
    if (i > 0) this.unacked.splice(0, i);
  }

  /** After a source gap: start again from a keyframe. */
  resync(): void {
    this.needKey = true;
    this.unacked = [];
  }

  /** Whether the oldest unacknowledged frame went out longer ago than the viewer may lag. */
  private lagging(): boolean {
    const oldest = this.unacked[0];
    return oldest !== undefined && this.now() - oldest.at > (this.marks.maxLagMs ?? 1_000);
  }
}
