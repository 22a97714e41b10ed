import { SECRETS_BUCKET } from "./live-token.js";
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { EVENTS_STREAM, SETTINGS_BUCKET, subjects } from "@picket/contracts";

export type { JetStreamClient, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
export { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
export type { KV, KvEntry } from "@nats-io/kv";
export { Kvm } from "@nats-io/kv";

const DAY_NS = 24 * 60 * 60 * 1e9;

const replicas = new WeakMap<NatsConnection, number>();

/** Sets how many copies the streams and buckets made through `nc` keep (PICKET_JS_REPLICAS; connectBus does it). */
export function setReplicas(nc: NatsConnection, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`a stream has 1 to 5 copies, not ${n}`);
  replicas.set(nc, n);
}

/**
 * How many copies a stream or bucket made through `nc` keeps: PICKET_JS_REPLICAS (3 on a hub
 * whose NATS is a cluster of three, so that losing one server loses no event, setting or
 * lease), else one. Set, not guessed: the servers a client is told of say nothing reliable
 * about the cluster's size (every hub server's client port can be 127.0.0.1:4222).
 */
export function replicasFor(nc: NatsConnection): number {
  return replicas.get(nc) ?? 1;
}

/**
 * Creates (or updates) the events stream. File storage so events survive a power cut;
 * 30 days or 100k events, whichever comes first; a 2-minute duplicate window so a retried
 * publish of the same event id is stored once. On a hub it also takes each device's stored
 * events as a source (event-feeds.ts); an update keeps those.
 */
export async function ensureEventsStream(nc: NatsConnection): Promise<JetStreamClient> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: EVENTS_STREAM,
    subjects: [subjects.eventsAll()],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: 30 * DAY_NS,
    max_msgs: 100_000,
    duplicate_window: 120 * 1e9,
    num_replicas: replicasFor(nc),
  };
  try {
    const current = (await jsm.streams.info(EVENTS_STREAM)).config;
    // Never fewer copies than it has: a service started without PICKET_JS_REPLICAS does not undo another's.
    config.num_replicas = Math.max(config.num_replicas, current.num_replicas ?? 1);
    // Left alone when it is as it should be: every service of a hub calls this, and an update
    // racing the fleet service's adding a device's source would drop it.
    const same = (Object.keys(config) as (keyof typeof config)[]).every((k) => JSON.stringify(current[k]) === JSON.stringify(config[k]));
    if (same) return jetstream(nc);
    // A hub's stream keeps the devices it takes events from (event-feeds.ts).
    await jsm.streams.update(EVENTS_STREAM, { ...config, ...(current.sources === undefined ? {} : { sources: current.sources }) });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
  return jetstream(nc);
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}

/** Opens (creating if needed) the settings KV bucket. */
export async function openSettings(nc: NatsConnection): Promise<KV> {
  const kvm = new Kvm(nc);
  return kvm.create(SETTINGS_BUCKET, { history: 5, storage: StorageType.File, replicas: replicasFor(nc) });
}

/** The secrets bucket (live-token.ts): read by the web and stream services only. */
export async function openSecrets(nc: NatsConnection): Promise<KV> {
  return new Kvm(nc).create(SECRETS_BUCKET, { history: 1, storage: StorageType.File, replicas: replicasFor(nc) });
}
