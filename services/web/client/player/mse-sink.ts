/**
 * Chromium plays a live MSE stream on a running clock and drops a frame that comes after its
 * time, so the playhead is held a little behind the newest frame (a jitter margin of a few
 * frames) by nudging the playback rate; only far from that it jumps.
 */
const TARGET_LAG_S = 0.1;
/** Past this much buffered ahead of the playhead (or ahead of the buffer), jump to the target. */
const MAX_LAG_S = 0.5;
const MIN_LAG_S = -0.1;
/** Rate change per second of lag off target, and its bounds. */
const RATE_GAIN = 1;
const MIN_RATE = 0.9;
const MAX_RATE = 1.1;
/** Buffered video kept behind the playhead; the rest is removed a GOP at a time. */
const KEEP_BEHIND_S = 4;
const TRIM_AFTER_S = 8;

declare global {
  /** Safari's MediaSource for iPhones (17.1+), which have no plain MediaSource. */
  var ManagedMediaSource: typeof MediaSource | undefined;
}

/** The MediaSource this browser offers: the plain one, or Safari's managed one. */
export function mediaSourceClass(): typeof MediaSource | undefined {
  if (typeof MediaSource === "function") return MediaSource;
  return typeof ManagedMediaSource === "function" ? ManagedMediaSource : undefined;
}

/**
 * One MediaSource and SourceBuffer on a <video>, fed fMP4 fragments as they come. It holds
 * the playhead just behind the live edge (see TARGET_LAG_S), removes what lies well behind
 * the playhead so memory stays bounded, and calls `failed` once when the source can go on no
 * more (the owner then builds a new one).
 */
export class MseSink {
  private readonly source: MediaSource;
  private buffer: SourceBuffer | undefined;
  private queue: Uint8Array[] = [];
  /** Start times (s) of the keyframes appended: where a removal may end cleanly. */
  private keyTimes: number[] = [];
  private squeeze = false;
  private closed = false;

  constructor(
    private readonly video: HTMLVideoElement,
    mime: string,
    init: Uint8Array,
    private readonly failed: (why: string) => void,
  ) {
    const Source = mediaSourceClass();
    if (Source === undefined) throw new Error("no MediaSource in this browser");
    this.source = new Source();
    this.queue.push(init);
    // A managed MediaSource plays only when AirPlay is off or has its own source.
    video.disableRemotePlayback = true;
    const url = URL.createObjectURL(this.source);
    this.source.addEventListener(
      "sourceopen",
      () => {
        URL.revokeObjectURL(url);
        if (this.closed) return;
        try {
          const buffer = this.source.addSourceBuffer(mime);
          buffer.mode = "segments";
          buffer.addEventListener("updateend", () => this.pump());
          buffer.addEventListener("error", () => this.fail("the source buffer failed"));
          this.buffer = buffer;
          this.pump();
        } catch (err) {
          this.fail(`cannot add a source buffer for ${mime}: ${String(err)}`);
        }
      },
      { once: true },
    );
    video.src = url;
  }

  /** Queues one fragment; `keyAtS` is its start time when it begins with a keyframe. */
  append(fragment: Uint8Array, keyAtS?: number): void {
    if (this.closed) return;
    this.queue.push(fragment);
    if (keyAtS !== undefined) this.keyTimes.push(keyAtS);
    this.pump();
  }

  /** Drops the queue; the owner gives the element a new source or none. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.close();
    this.failed(why);
  }

  private pump(): void {
    const buffer = this.buffer;
    if (this.closed || buffer === undefined || buffer.updating || this.source.readyState !== "open") return;
    this.keepLive();
    const cut = this.trimPoint();
    if (cut !== undefined) {
      buffer.remove(0, cut);
      return;
    }
    if (this.queue.length === 0) return;
    // Frames that came while the buffer was busy go in one append.
    const parts = this.queue;
    this.queue = [];
    const data = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts);
    try {
      buffer.appendBuffer(data as Uint8Array<ArrayBuffer>);
    } catch (err) {
      if (err instanceof DOMException && err.name === "QuotaExceededError" && !this.squeeze) {
        // Full: drop everything behind the playhead but the current GOP, then try again.
        this.squeeze = true;
        this.queue.unshift(data);
        if (this.trimPoint() === undefined) this.fail("the source buffer is full");
        else this.pump();
        return;
      }
      this.fail(`append failed: ${String(err)}`);
      return;
    }
    this.squeeze = false;
  }

  private keepLive(): void {
    const video = this.video;
    const ranges = video.buffered;
    if (ranges.length === 0) return;
    const start = ranges.start(ranges.length - 1);
    const end = ranges.end(ranges.length - 1);
    const lag = end - video.currentTime;
    if (video.currentTime < start || lag > MAX_LAG_S || lag < MIN_LAG_S) {
      video.currentTime = Math.max(start, end - TARGET_LAG_S);
      video.playbackRate = 1;
    } else {
      // In steps of 0.05, so the rate changes a few times a second at most, not every frame.
      const rate = Math.round(Math.min(MAX_RATE, Math.max(MIN_RATE, 1 + (lag - TARGET_LAG_S) * RATE_GAIN)) * 20) / 20;
      if (video.playbackRate !== rate) video.playbackRate = rate;
    }
    // Muted autoplay is allowed everywhere; a refused play (a hidden page) is tried again
    // with the next fragment.
    if (video.paused) video.play().catch(() => undefined);
  }

  /** Where to cut the buffer's past: the newest keyframe far enough behind the playhead. */
  private trimPoint(): number | undefined {
    const ranges = this.video.buffered;
    if (ranges.length === 0) return undefined;
    const now = this.video.currentTime;
    const keep = this.squeeze ? 0 : KEEP_BEHIND_S;
    if (!this.squeeze && now - ranges.start(0) < TRIM_AFTER_S) return undefined;
    const cut = this.keyTimes.findLast((k) => k <= now - keep);
    if (cut === undefined || cut <= ranges.start(0)) return undefined;
    this.keyTimes = this.keyTimes.filter((k) => k >= cut);
    // Just short of the keyframe, so rounding never takes it (and its GOP) along.
    return cut - 0.001;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
