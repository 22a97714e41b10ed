import { jetstream, jetstreamManager, type JetStreamManager, type MsgRequest } from "@nats-io/jetstream";
import { Base64UrlPaddedCodec, Objm, StorageType, type ObjectStore } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { MEDIA_BUCKET } from "@picket/contracts";
import type { Logger } from "pino";

export interface MediaStoreOptions {
  /** Quota for everything stored, bytes (the bucket's stream `max_bytes`, overhead included). */
  maxBytes: number;
  /** Objects older than this vanish (the stream's `max_age`), ms. */
  maxAgeMs: number;
  replicas?: number;
  /** Says when the oldest objects are deleted to make room, and when the quota had to shrink. */
  log?: Logger;
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
   * when they would not fit the quota (`evicted` names them). Throws MediaTooLargeError for
   * an object bigger than the whole quota. Re-creates the bucket when the server lost it.
   */
  put(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number; evicted: string[] }>;
  /**
   * The quota in force, bytes: the one asked for, or less when JetStream could not reserve
   * it (its storage, `max_file_store`, is smaller than the quota plus what else it holds).
   */
  readonly maxBytes: number;
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
/** JetStream cannot reserve a stream's `max_bytes`: its storage (`max_file_store`) is too small. */
const isReserveError = (err: unknown) => err instanceof Error && /insufficient storage resources/i.test(err.message);

/** The smallest quota the store shrinks to when JetStream cannot reserve the one asked for. */
const MIN_QUOTA_BYTES = 1024 * 1024;

/**
 * The quota to use when `fits` (a halving of the one asked for) was the first JetStream could
 * reserve: half of it, so that at least as much stays for the events stream, the settings
 * and the consumers, whose writes JetStream refuses once its storage is used up.
 */
export function shrunkQuota(fits: number, minBytes = MIN_QUOTA_BYTES): number {
  return Math.max(minBytes, Math.floor(fits / 2));
}

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

/** What a service that reads events' media, and may delete an event's (the web app), needs. */
export type MediaReader = Pick<MediaStore, "get" | "waitFor" | "delete">;

/**
 * Reads the media bucket without owning it (the bot, the web app): it never creates the
 * bucket nor changes its limits, which are the camera's. While there is no bucket yet,
 * reads find nothing. With `domain`, the bucket of that JetStream domain: a hub reads a
 * device's media where the device keeps them (its domain is its id).
 */
export function openMediaReader(nc: NatsConnection, opts: { domain?: string } = {}): MediaReader {
  let store: NatsMediaStore | undefined;
  const domain = opts.domain === undefined ? undefined : { domain: opts.domain };
  const open = async (): Promise<NatsMediaStore | undefined> => {
    if (store !== undefined) return store;
    try {
      const os = await new Objm(domain === undefined ? nc : jetstream(nc, domain)).open(MEDIA_BUCKET);
      const maxAgeMs = (await os.status()).streamInfo.config.max_age / 1e6;
      const s = new NatsMediaStore(nc, { maxBytes: Number.POSITIVE_INFINITY, maxAgeMs: maxAgeMs > 0 ? maxAgeMs : Number.POSITIVE_INFINITY }, await jetstreamManager(nc, domain), os, opts.domain);
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
    delete: async (name) => (await open())?.delete(name),
  };
}

/**
 * The media reader for each device's events. On a hub (`hub`: its own id) every other device
 * keeps its media in its own JetStream domain (its id), read there; elsewhere, and for the
 * hub's own id, the local bucket. Readers are opened once per device.
 */
export function deviceMediaReaders(nc: NatsConnection, opts: { hub?: string } = {}): (device: string) => MediaReader {
  const local = openMediaReader(nc);
  const remote = new Map<string, MediaReader>();
  return (device) => {
    if (opts.hub === undefined || device === opts.hub) return local;
    const reader = remote.get(device) ?? openMediaReader(nc, { domain: device });
    remote.set(device, reader);
    return reader;
  };
}

class NatsMediaStore implements MediaStore {
  /** Set by `ensure`, which `openMediaStore` awaits before handing the store out. */
  private os!: ObjectStore;
  private readonly stream = `OBJ_${MEDIA_BUCKET}`;
  /** Puts run one at a time so two of them never plan their pruning on the same usage. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The quota in force (see MediaStore.maxBytes). */
  maxBytes: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: MediaStoreOptions,
    private readonly jsm: JetStreamManager,
    /** An opened bucket, for readers (which never call `ensure`). */
    os?: ObjectStore,
    /** A reader's JetStream domain, when it reads another server's bucket. */
    private readonly domain?: string,
  ) {
    if (os !== undefined) this.os = os;
    this.reader = os !== undefined;
    this.maxBytes = opts.maxBytes;
  }

  /** A reader never creates the bucket or changes its limits. */
  private readonly reader: boolean;

  /**
   * Creates the bucket if missing and brings its limits to the options. A quota JetStream
   * cannot reserve is halved until it can, then halved once more (shrunkQuota), and said
   * once: a camera whose quota does not fit the volume keeps working rather than exit.
   */
  async ensure(): Promise<ObjectStore> {
    if (this.reader) {
      // In the reader's own JetStream domain (a device's, read from a hub), never the local one.
      this.os = await new Objm(this.domain === undefined ? this.nc : jetstream(this.nc, { domain: this.domain })).open(MEDIA_BUCKET);
      return this.os;
    }
    const asked = this.maxBytes;
    for (;;) {
      try {
        await this.ensureWith(this.maxBytes);
        break;
      } catch (err) {
        if (!isReserveError(err) || this.maxBytes <= MIN_QUOTA_BYTES) throw err;
        this.maxBytes = Math.max(MIN_QUOTA_BYTES, Math.floor(this.maxBytes / 2));
      }
    }
    if (this.maxBytes < asked) {
      const fits = this.maxBytes;
      this.maxBytes = shrunkQuota(fits);
      await this.ensureWith(this.maxBytes);
      this.opts.log?.warn(
        { askedMb: Math.round(asked / 1048576), reservableMb: Math.round(fits / 1048576), usingMb: Math.round(this.maxBytes / 1048576) },
        "the media quota does not fit JetStream's storage (max_file_store, by default 75% of the volume's free space): using a smaller one, leaving the rest for events",
      );
    }
    return this.os;
  }

  private async ensureWith(maxBytes: number): Promise<ObjectStore> {
    const { maxAgeMs, replicas = 1 } = this.opts;
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

  put(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number; evicted: string[] }> {
    const run = this.queue.then(() => this.putNow(name, data, meta));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async putNow(name: string, data: Uint8Array, meta: { contentType: string; description?: string }): Promise<{ bytes: number; evicted: string[] }> {
    // The client cuts objects into chunks of 128 kB, or the server's max_payload if smaller.
    const chunkBytes = Math.min(CHUNK_BYTES, this.nc.info?.max_payload ?? CHUNK_BYTES);
    const need = storedBytes(name, data.length, chunkBytes) + (meta.description?.length ?? 0);
    if (need > this.maxBytes) throw new MediaTooLargeError(name, data.length, this.maxBytes);
    const objectMeta = { name, description: meta.description ?? "", metadata: { "content-type": meta.contentType } };
    const evicted: string[] = [];
    let recreate = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if (recreate) await this.ensure();
          evicted.push(...(await this.prune(need)));
          const info = await this.os.putBlob(objectMeta, data);
          return { bytes: info.size, evicted };
        } catch (err) {
          if (attempt >= 3) throw err;
          // A server that came back with an empty store: make the bucket again.
          recreate = isNotFound(err);
          if (recreate) continue;
          // Our estimate of the overhead fell short, or JetStream's storage is used up by
          // others: the next round deletes one more object.
          if (!isQuotaError(err)) throw err;
          const oldest = await this.deleteOldest();
          if (oldest === undefined) throw err;
          evicted.push(oldest);
        }
      }
    } finally {
      if (evicted.length > 0) this.opts.log?.info({ object: name, evicted: evicted.length, oldest: evicted[0], quotaMb: Math.round(this.maxBytes / 1048576) }, "media store full: deleted the oldest snapshots and clips to make room");
    }
  }

  /** Deletes the oldest objects until `incoming` more bytes fit; returns their names. */
  private async prune(incoming: number): Promise<string[]> {
    const status = await this.os.status();
    // Listing every object costs more as the store fills: only when something must go.
    if (status.size + incoming <= this.maxBytes) return [];
    const objects = await this.list();
    const { remove } = planPrune(objects, status.size, incoming, this.maxBytes);
    for (const name of remove) await this.delete(name);
    return remove;
  }

  private async deleteOldest(): Promise<string | undefined> {
    const oldest = (await this.list())[0];
    if (oldest !== undefined) await this.delete(oldest.name);
    return oldest?.name;
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
   * Deletes the object's metadata, then its chunks. Unlike the client's `delete`, which
   * publishes a tombstone first, this needs no room in the stream, so a full store can
   * always make room; the object simply stops existing.
   */
  async delete(name: string): Promise<void> {
    const info = await this.os.info(name).catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
    if (info === null) return;
    await this.deleteSubject(`$O.${MEDIA_BUCKET}.M.${Base64UrlPaddedCodec.encode(name)}`, 4);
    await this.deleteSubject(`$O.${MEDIA_BUCKET}.C.${info.nuid}`, info.chunks + 1);
  }

  /**
   * Deletes the messages of one subject one by one (at most `max`). Not a purge with a
   * subject filter: nats-server 2.9 does not take what such a purge frees off JetStream's
   * storage in use, so after a few rounds of eviction every write to every stream (the events
   * too) is refused with "insufficient resources" although the bytes are gone.
   */
  private async deleteSubject(subject: string, max: number): Promise<void> {
    let seq = 0;
    for (let n = 0; n < max; n++) {
      // The server takes `next_by_subj` in a plain (not direct) get too; the client's type omits it.
      const next = { seq, next_by_subj: subject } as unknown as MsgRequest;
      const msg = await this.jsm.streams.getMessage(this.stream, next).catch((err: unknown) => {
        if (isNotFound(err)) return null;
        throw err;
      });
      if (msg === null) return;
      await this.jsm.streams.deleteMessage(this.stream, msg.seq, false);
      seq = msg.seq + 1;
    }
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
