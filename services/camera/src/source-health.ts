/**
 * Whether the camera's picture is flowing, and what the event log should say when it stops.
 * Pure: the service feeds it what the capture does; the clock is injected.
 *
 *   off ──start──▶ starting ──picture──▶ live ◀──picture── recovering
 *                     │                  │  ▲                  │
 *                   failed            failed └─picture─┐     failed
 *                     ▼                  ▼             │       ▼
 *                    lost ◀──────── (source gone) ─────┴──── lost
 *
 * A failure while live is first treated as a stuck encoder: one restart, and `restarted`
 * when the picture comes back. A failure before any picture, a restart that brings nothing
 * back, or a source that is visibly gone (its file or device missing) is `lost`, said once;
 * `back` follows when the picture returns.
 */
export type SourceState = "off" | "starting" | "live" | "recovering" | "lost";

export interface StatusChange {
  state: "restarted" | "lost" | "back";
  reason: string;
  /** restarted / back: ms from the last good picture to this one. */
  downMs?: number;
}

export class SourceHealth {
  private current: SourceState = "off";
  private lastGoodAt = 0;
  private reason = "";

  constructor(private readonly now: () => number = Date.now) {}

  get state(): SourceState {
    return this.current;
  }

  /** The capture was started on purpose (service start, on-demand start, new presets). */
  started(): void {
    if (this.current !== "off") return;
    this.current = "starting";
    this.lastGoodAt = this.now();
  }

  /** The capture was stopped on purpose: no picture is expected. */
  stopped(): void {
    this.current = "off";
  }

  /** A good picture: a frame, or, when frozen pictures are watched for, a picture that changed. */
  picture(): StatusChange | undefined {
    const at = this.now();
    const before = this.current;
    const downMs = Math.max(0, at - this.lastGoodAt);
    if (before !== "off") {
      this.lastGoodAt = at;
      this.current = "live";
    }
    if (before === "recovering") return { state: "restarted", reason: this.reason, downMs };
    if (before === "lost") return { state: "back", reason: this.reason, downMs };
    return undefined;
  }

  /**
   * The running capture failed (stalled, frozen, exited, garbage). `sourceGone` when the
   * source is visibly missing: lost at once rather than a restart expected to help.
   */
  failed(reason: string, sourceGone = false): StatusChange | undefined {
    switch (this.current) {
      case "live":
        this.reason = reason;
        if (!sourceGone) {
          this.current = "recovering";
          return undefined;
        }
        this.current = "lost";
        return { state: "lost", reason };
      case "starting":
      case "recovering":
        this.current = "lost";
        this.reason = reason;
        return { state: "lost", reason };
      default:
        return undefined;
    }
  }
}

/**
 * Tells a frozen picture: stills that stay bit-identical. A real sensor's noise changes some
 * pixel of every frame, so identical stills mean a stuck sensor or pipeline repeating its
 * last frame. `frozenMs` 0 never reports one.
 */
export class FrozenPicture {
  private last: Uint8Array | undefined;
  private sameSince = 0;
  private reported = false;

  constructor(private readonly frozenMs: number) {}

  /**
   * Feeds a still (its encoded bytes) taken at `atMs`. Returns `changed` when it differs
   * from the previous one, `frozen` once when the picture has not changed for `frozenMs`,
   * otherwise `same` (also for the first still of a run).
   */
  push(still: Uint8Array, atMs: number): "changed" | "same" | "frozen" {
    const last = this.last;
    this.last = still;
    if (last === undefined) {
      this.sameSince = atMs;
      return "same";
    }
    if (!Buffer.from(last.buffer, last.byteOffset, last.byteLength).equals(still)) {
      this.sameSince = atMs;
      this.reported = false;
      return "changed";
    }
    if (this.frozenMs > 0 && !this.reported && atMs - this.sameSince >= this.frozenMs) {
      this.reported = true;
      return "frozen";
    }
    return "same";
  }

  /** A new run: its first still is compared with nothing. */
  reset(): void {
    this.last = undefined;
    this.reported = false;
  }
}
