import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Base64UrlPaddedCodec, Objm, StorageType, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { MEDIA_BUCKET } from "@picket/contracts";

export interface MediaStoreOptions {
  /** Quota for everything stored, bytes (the bucket's stream `max_bytes`, overhead included). */
  maxBytes: number;
  /** Objects older than this vanish (the stream's `max_age`), ms. */
  maxAgeMs: number;
  replicas?: number;
}

export interface MediaObject {
  name: string;
  bytes: number;
  /** When it was stored (the writer's clock). */
  mtime: Date;
}

/** The events' snapshots and clips, in the JetStream object store bucket `picket-media`. */
export interface MediaStore {
  /**
   * Stores bytes under `name` (e.g. `clips/<id>.mp4`), deleting the oldest objects first
   * when they would not fit the quota. Throws MediaTooLargeError for an object bigger than
   * the whole quota. Re-creates the bucket when the server lost it.
   */
  put(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number }>;
  /** The object's bytes, or undefined when there is none (or no bucket). */
  get(name: string): Promise<Uint8Array | undefined>;
  /** Waits until an object exists (watch), up to timeoutMs; returns its bytes or undefined (also when aborted). */
  waitFor(name: string, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Every object, oldest first. */
  list(): Promise<MediaObject[]>;
  /** Removes an object at once (no-op if there is none). */
  delete(name: string): Promise<void>;
  /** Bytes the bucket occupies (with per-message overhead) and the number of objects. */
  usage(): Promise<{ bytes: number; objects: number }>;
}

/** An object that can never fit the media store's quota. */
export class MediaTooLargeError extends Error {
  override readonly name = "MediaTooLargeError";
  constructor(
    readonly object: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`${object} (${bytes} bytes) does not fit the media store's whole quota of ${maxBytes} bytes`);
  }
}

export const isMediaTooLarge = (err: unknown): err is MediaTooLargeError => err instanceof MediaTooLargeError;

const CHUNK_BYTES = 128 * 1024;
/** Stored bytes per chunk message besides its payload (subject, headers, store record), rounded up. */
const CHUNK_OVERHEAD = 128;
/** The object's metadata message (JSON info, rollup header, subject), rounded up. */
const META_BYTES = 1024;

/** Bytes an object takes in the stream: data, chunk overhead, metadata. */
export function storedBytes(name: string, dataBytes: number, chunkBytes = CHUNK_BYTES): number {
  return dataBytes + Math.max(1, Math.ceil(dataBytes / chunkBytes)) * CHUNK_OVERHEAD + META_BYTES + 2 * name.length;
}

/**
 * Which objects to delete, oldest first, so that `incoming` more bytes fit under `maxBytes`
 * when `usedBytes` are taken. `fits` is false when even deleting all of them is not enough.
 */
export function planPrune(objects: readonly MediaObject[], usedBytes: number, incoming: number, maxBytes: number): { remove: string[]; fits: boolean } {
  const oldestFirst = [...objects].sort((a, b) => a.mtime.getTime() - b.mtime.getTime());
  const remove: string[] = [];
  let used = usedBytes;
  for (const o of oldestFirst) {
    if (used + incoming <= maxBytes) break;
    remove.push(o.name);
    used -= storedBytes(o.name, o.bytes);
  }
  return { remove, fits: used + incoming <= maxBytes };
}

const isNotFound = (err: unknown) => err instanceof Error && /not found|no responders/i.test(err.message);
/** JetStream refused a message over the stream's `max_bytes` (or the account's storage). */
const isQuotaError = (err: unknown) => err instanceof Error && /maximum bytes exceeded|insufficient (storage )?resources/i.test(err.message);

/**
 * Opens (creating if needed) the media bucket with file storage, `maxBytes` and `maxAgeMs`.
 * When the bucket exists with other limits it is updated; a smaller quota first deletes
 * the oldest objects so the server's own limit never cuts an object in half.
 */
export async function openMediaStore(nc: NatsConnection, opts: MediaStoreOptions): Promise<MediaStore> {
  const store = new NatsMediaStore(nc, opts, await jetstreamManager(nc));
  await store.ensure();
  return store;
}

/** What a service that only reads events' media needs. */
export type MediaReader = Pick<MediaStore, "get" | "waitFor">;

/**
 * Reads the media bucket without owning it (the bot, the web app): it never creates the
 * bucket nor changes its limits, which are the camera's. While there is no bucket yet,
 * reads find nothing.
 */
export function openMediaReader(nc: NatsConnection): MediaReader {
  let store: NatsMediaStore | undefined;
  const open = async (): Promise<NatsMediaStore | undefined> => {
    if (store !== undefined) return store;
    try {
      const os = await new Objm(nc).open(MEDIA_BUCKET);
      const maxAgeMs = (await os.status()).streamInfo.config.max_age / 1e6;
      const s = new NatsMediaStore(nc, { maxBytes: Number.POSITIVE_INFINITY, maxAgeMs: maxAgeMs > 0 ? maxAgeMs : Number.POSITIVE_INFINITY }, await jetstreamManager(nc), os);
      store = s;
      return s;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    get: async (name) => (await open())?.get(name),
    waitFor: async (name, timeoutMs, signal) => (await open())?.waitFor(name, timeoutMs, signal),
  };
}

class NatsMediaStore implements MediaStore {
  /** Set by `ensure`, which `openMediaStore` awaits before handing the store out. */
  private os!: ObjectStore;
  private readonly stream = `OBJ_${MEDIA_BUCKET}`;
  /** Puts run one at a time so two of them never plan their pruning on the same usage. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: MediaStoreOptions,
    private readonly jsm: JetStreamManager,
    /** An opened bucket, for readers (which never call `ensure`). */
    os?: ObjectStore,
  ) {
    if (os !== undefined) this.os = os;
    this.reader = os !== undefined;
  }

  /** A reader never creates the bucket or changes its limits. */
  private readonly reader: boolean;

  /** Creates the bucket if missing and brings its limits to the options. */
  async ensure(): Promise<ObjectStore> {
    if (this.reader) {
      this.os = await new Objm(this.nc).open(MEDIA_BUCKET);
      return this.os;
    }
    const { maxBytes, maxAgeMs, replicas = 1 } = this.opts;
    const os = await new Objm(this.nc).create(MEDIA_BUCKET, { max_bytes: maxBytes, ttl: maxAgeMs * 1e6, storage: StorageType.File, replicas });
    this.os = os;
    const config = (await os.status()).streamInfo.config;
    if (config.max_bytes !== maxBytes || config.max_age !== maxAgeMs * 1e6 || config.num_replicas !== replicas) {
      if (config.max_bytes < 0 || config.max_bytes > maxBytes) await this.prune(0);
      // The server refuses a duplicate window longer than the age limit.
      const duplicate_window = Math.min(config.duplicate_window, maxAgeMs * 1e6);
      await this.jsm.streams.update(this.stream, { ...config, max_bytes: maxBytes, max_age: maxAgeMs * 1e6, num_replicas: replicas, duplicate_window });
    }
    return os;
  }

  put(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number }> {
    const run = this.queue.then(() => this.putNow(name, data, meta));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async putNow(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number }> {
    // The client cuts objects into chunks of 128 kB, or the server's max_payload if smaller.
    const chunkBytes = Math.min(CHUNK_BYTES, this.nc.info?.max_payload ?? CHUNK_BYTES);
    const need = storedBytes(name, data.length, chunkBytes) + (meta.description?.length ?? 0);
    if (need > this.opts.maxBytes) throw new MediaTooLargeError(name, data.length, this.opts.maxBytes);
    const objectMeta = { name, description: meta.description ?? "", metadata: { "content-type": meta.contentType } };
    let recreate = false;
    for (let attempt = 0; ; attempt++) {
      try {
        if (recreate) await this.ensure();
        await this.prune(need);
        const info = await this.os.putBlob(objectMeta, data);
        return { bytes: info.size };
      } catch (err) {
        if (attempt >= 3) throw err;
        // A server that came back with an empty store: make the bucket again.
        recreate = isNotFound(err);
        if (recreate) continue;
        // Our estimate of the overhead fell short: the next round deletes one more object.
        if (isQuotaError(err)) await this.deleteOldest();
        else throw err;
      }
    }
  }

  /** Deletes the oldest objects until `incoming` more bytes fit. */
  private async prune(incoming: number): Promise<void> {
    const status = await this.os.status();
    // Listing every object costs more as the store fills: only when something must go.
    if (status.size + incoming <= this.opts.maxBytes) return;
    const objects = await this.list();
    const { remove } = planPrune(objects, status.size, incoming, this.opts.maxBytes);
    for (const name of remove) await this.delete(name);
  }

  private async deleteOldest(): Promise<void> {
    const oldest = (await this.list())[0];
    if (oldest !== undefined) await this.delete(oldest.name);
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const os = this.os;
    try {
      const info = await os.info(name);
      // Its chunks expire a moment before its metadata: past the age limit it is gone.
      const age = Date.now() - Date.parse(info?.mtime ?? "");
      if (info === null || info.deleted || age > this.opts.maxAgeMs - Math.min(60_000, this.opts.maxAgeMs / 10)) return undefined;
      const data = await os.getBlob(name);
      // One chunk comes back as the connection's Buffer; every answer is a plain Uint8Array.
      return data === null ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async waitFor(name: string, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    if (signal?.aborted === true) return undefined;
    let watcher: Awaited<ReturnType<ObjectStore["watch"]>>;
    try {
      watcher = await this.os.watch({ ignoreDeletes: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      watcher = await (await this.ensure()).watch({ ignoreDeletes: true });
    }
    const stop = () => watcher.stop();
    const timer = setTimeout(stop, timeoutMs);
    signal?.addEventListener("abort", stop, { once: true });
    try {
      // Watching first, then looking, so an object stored in between is not missed.
      const existing = await this.get(name);
      if (existing !== undefined) return existing;
      for await (const info of watcher) {
        if (info.name === name && !info.deleted) return await this.get(name);
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      watcher.stop();
    }
  }

  async list(): Promise<MediaObject[]> {
    try {
      const infos = await this.os.list();
      return infos
        .filter((i) => !i.deleted)
        .map((i) => ({ name: i.name, bytes: i.size, mtime: new Date(i.mtime) }))
        .sort((a, b) => a.mtime.getTime() - b.mtime.getTime());
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /**
   * Purges the object's metadata, then its chunks. Unlike the client's `delete`, which
   * publishes a tombstone first, this needs no room in the stream, so a full store can
   * always make room; the object simply stops existing.
   */
  async delete(name: string): Promise<void> {
    const info = await this.os.info(name).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    if (info === null) return;
    await this.jsm.streams.purge(this.stream, { filter: `$O.${MEDIA_BUCKET}.M.${Base64UrlPaddedCodec.encode(name)}` });
    await this.jsm.streams.purge(this.stream, { filter: `$O.${MEDIA_BUCKET}.C.${info.nuid}` });
  }

  async usage(): Promise<{ bytes: number; objects: number }> {
    try {
      const [status, objects] = await Promise.all([this.os.status(), this.list()]);
      return { bytes: status.size, objects: objects.length };
    } catch (err) {
      if (isNotFound(err)) return { bytes: 0, objects: 0 };
      throw err;
    }
  }
}
