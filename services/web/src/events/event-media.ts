import { mediaNames } from "@picket/contracts";
import { deviceMediaReaders, type MediaReader, type NatsConnection } from "@picket/runtime";

/** An event's snapshot and clip in the media object store of its device, found by the event id alone. */
export interface EventMedia {
  /** The object's bytes, or undefined when it is not stored (yet, or any more). Throws after a timeout. */
  get(eventId: string, media: "snapshot" | "clip", device: string): Promise<Uint8Array | undefined>;
  /** Removes the event's snapshot and clip (no-op for those not stored). */
  delete(eventId: string, device: string): Promise<void>;
}

/**
 * Reads and deletes events' media without owning the bucket (the camera does): it never
 * creates the bucket or changes its limits. Names come from `mediaNames` and the event id,
 * never from a request's path.
 */
export function openEventMedia(nc: NatsConnection, opts: { readTimeoutMs?: number; hub?: string } = {}): EventMedia {
  const readerOf = deviceMediaReaders(nc, opts.hub === undefined ? {} : { hub: opts.hub });
  const readTimeoutMs = opts.readTimeoutMs ?? 10_000;
  // A player seeking in a clip asks for one range after another: the clip is read from the
  // store once and kept for a minute, not read whole again for every range.
  const recent = new RecentMedia(RECENT_MAX_BYTES, RECENT_TTL_MS);
  return {
    async get(eventId, media, device) {
      const name = mediaNames[media](eventId);
      const kept = recent.get(name, Date.now());
      if (kept !== undefined) return kept;
      const bytes = await read(readerOf(device), name);
      if (bytes !== undefined) recent.put(name, bytes, Date.now());
      return bytes;
    },
    async delete(eventId, device) {
      recent.forget(mediaNames.snapshot(eventId));
      recent.forget(mediaNames.clip(eventId));
      // The media store's own delete: message by message, so a full store gets its room back.
      const reader = readerOf(device);
      await reader.delete(mediaNames.snapshot(eventId));
      await reader.delete(mediaNames.clip(eventId));
    },
  };

  async function read(reader: MediaReader, name: string): Promise<Uint8Array | undefined> {
    // The client waits forever for the chunks of an object deleted while it is being read.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the media store did not answer in ${readTimeoutMs / 1000} s`)), readTimeoutMs);
    });
    try {
      return await Promise.race([reader.get(name), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Room for a few clips: a Pi Zero 2 has 512 MB in all. */
const RECENT_MAX_BYTES = 32 * 1024 * 1024;
const RECENT_TTL_MS = 60_000;

/** The last media read, newest kept, within a byte budget and an age limit. Pure: time is passed in. */
export class RecentMedia {
  private readonly entries = new Map<string, { bytes: Uint8Array; at: number }>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs: number,
  ) {}

  get(name: string, now: number): Uint8Array | undefined {
    const e = this.entries.get(name);
    if (e === undefined) return undefined;
    if (now - e.at > this.ttlMs) {
      this.forget(name);
      return undefined;
    }
    return e.bytes;
  }

  put(name: string, bytes: Uint8Array, now: number): void {
    this.forget(name);
    if (bytes.length > this.maxBytes) return;
    this.entries.set(name, { bytes, at: now });
    this.total += bytes.length;
    for (const [old, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(old);
      this.total -= e.bytes.length;
    }
  }

  forget(name: string): void {
    const e = this.entries.get(name);
    if (e === undefined) return;
    this.entries.delete(name);
    this.total -= e.bytes.length;
  }
}
