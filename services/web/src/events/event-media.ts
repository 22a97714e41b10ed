import { MEDIA_BUCKET, mediaNames } from "@picket/contracts";
import { jetstreamManager, openMediaReader, type NatsConnection } from "@picket/runtime";

/** An event's snapshot and clip in the media object store, found by the event id alone. */
export interface EventMedia {
  /** The object's bytes, or undefined when it is not stored (yet, or any more). Throws after a timeout. */
  get(eventId: string, media: "snapshot" | "clip"): Promise<Uint8Array | undefined>;
  /** Removes the event's snapshot and clip (no-op for those not stored). */
  delete(eventId: string): Promise<void>;
}

const STREAM = `OBJ_${MEDIA_BUCKET}`;
const isNotFound = (err: unknown) => err instanceof Error && /not found/i.test(err.message);

/** The object store's name token: base64url with padding, as the NATS object store writes it. */
const nameToken = (name: string) => Buffer.from(name, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_");

/**
 * Reads and deletes events' media without owning the bucket (the camera does): it never
 * creates the bucket or changes its limits. Names come from `mediaNames` and the event id,
 * never from a request's path.
 */
export function openEventMedia(nc: NatsConnection, opts: { readTimeoutMs?: number } = {}): EventMedia {
  const reader = openMediaReader(nc);
  const readTimeoutMs = opts.readTimeoutMs ?? 10_000;
  /**
   * Purges the object's metadata, then its chunks, like the camera's own store does: unlike
   * the client's delete (a tombstone), this needs no room in a full store.
   */
  const purge = async (name: string): Promise<void> => {
    const jsm = await jetstreamManager(nc);
    const meta = `$O.${MEDIA_BUCKET}.M.${nameToken(name)}`;
    let info: { nuid?: string } | undefined;
    try {
      info = (await jsm.streams.getMessage(STREAM, { last_by_subj: meta }))?.json<{ nuid?: string }>();
    } catch (err) {
      if (isNotFound(err)) return; // no bucket: nothing stored
      throw err;
    }
    if (info === undefined) return;
    await jsm.streams.purge(STREAM, { filter: meta });
    if (typeof info.nuid === "string" && /^[A-Za-z0-9]+$/.test(info.nuid)) await jsm.streams.purge(STREAM, { filter: `$O.${MEDIA_BUCKET}.C.${info.nuid}` });
  };
  return {
    async get(eventId, media) {
      // The client waits forever for the chunks of an object deleted while it is being read.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the media store did not answer in ${readTimeoutMs / 1000} s`)), readTimeoutMs);
      });
      try {
        return await Promise.race([reader.get(mediaNames[media](eventId)), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async delete(eventId) {
      await purge(mediaNames.snapshot(eventId));
      await purge(mediaNames.clip(eventId));
    },
  };
}
