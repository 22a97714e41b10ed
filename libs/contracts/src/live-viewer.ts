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

  constructor(
    readonly socket: ViewerSocket,
    private readonly marks: BackpressureMarks,
  ) {}

  /** Sends the cached GOP so the first picture appears at once. */
  start(gop: readonly CachedFrame[]): void {
    for (const f of gop) this.offer(f);
  }

  /** Offers a frame; returns whether it was sent. */
  offer(frame: CachedFrame): boolean {
    if (this.needKey) {
      if (!frame.key || this.socket.bufferedAmount > this.marks.lowBytes) return false;
      this.needKey = false;
    } else if (this.socket.bufferedAmount > this.marks.highBytes) {
      this.needKey = true;
      this.skips++;
      return false;
    }
    this.socket.send(frame.wire);
    this.sent++;
    return true;
  }

  /** After a source gap: start again from a keyframe. */
  resync(): void {
    this.needKey = true;
  }
}
