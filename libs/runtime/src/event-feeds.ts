import { EVENTS_STREAM, subjects } from "@picket/contracts";
import { jetstreamManager, type StreamSource } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/**
 * A hub's events stream takes every device's events as a source: the device's own events stream,
 * read through its JetStream domain (its id). The hub's nats-server keeps a consumer on the
 * device and its place in it, so what a device stored while its link to the hub was down
 * reaches the hub (its timeline, its bot) when the link is back, instead of being lost.
 */

/**
 * How long before the hub first heard a device its feed starts: an alarm raised while the device
 * was joining is taken, not a month of history from a device that ran alone before.
 */
export const FEED_LEAD_MS = 60_000;

/** Device `device`'s events as a source of the hub's stream, from `fromMs` on. */
export function deviceFeed(device: string, fromMs: number): StreamSource {
  return {
    name: EVENTS_STREAM,
    filter_subject: subjects.eventsAll(device),
    opt_start_time: new Date(fromMs).toISOString(),
    // Deliveries in the device's own name (its hub credentials allow those) and outside its
    // `events.>`, which its own stream would store.
    external: { api: `$JS.${device}.API`, deliver: subjects.hubFeed(device) },
  };
}

/** The devices a stream's sources already feed from. */
export function fedDevices(sources: readonly StreamSource[] | undefined): Set<string> {
  const fed = new Set<string>();
  for (const s of sources ?? []) {
    const device = /^\$JS\.([^.]+)\.API$/.exec(s.external?.api ?? "")?.[1];
    if (device !== undefined && s.name === EVENTS_STREAM) fed.add(device);
  }
  return fed;
}

/** The sources with a feed for each of `devices` not fed yet (from `fromMs`), or undefined when none is missing. */
export function withFeeds(sources: readonly StreamSource[] | undefined, devices: Iterable<string>, fromMs: number): StreamSource[] | undefined {
  const fed = fedDevices(sources);
  const added = [...new Set(devices)].filter((d) => !fed.has(d)).sort();
  return added.length === 0 ? undefined : [...(sources ?? []), ...added.map((d) => deviceFeed(d, fromMs))];
}

/** The sources without device `device`'s feed, or undefined when it has none. */
export function withoutFeed(sources: readonly StreamSource[] | undefined, device: string): StreamSource[] | undefined {
  const kept = (sources ?? []).filter((s) => !(s.name === EVENTS_STREAM && s.external?.api === `$JS.${device}.API`));
  return kept.length === (sources ?? []).length ? undefined : kept;
}

/** Stops the hub's events stream taking device `device`'s events (a device removed from the hub); what it took stays. */
export async function unfeedDevice(nc: NatsConnection, device: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(EVENTS_STREAM);
  const sources = withoutFeed(config.sources, device);
  if (sources === undefined) return false;
  await jsm.streams.update(EVENTS_STREAM, { ...config, sources });
  return true;
}

/**
 * Makes the hub's events stream (ensureEventsStream made it) take the events of each of
 * `devices` it does not take yet. Resolves with every device it is fed from now, and the ones
 * this call added.
 */
export async function feedDeviceEvents(nc: NatsConnection, devices: Iterable<string>, fromMs: number): Promise<{ fed: Set<string>; added: string[] }> {
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(EVENTS_STREAM);
  const before = fedDevices(config.sources);
  const sources = withFeeds(config.sources, devices, fromMs);
  if (sources === undefined) return { fed: before, added: [] };
  const fed = fedDevices((await jsm.streams.update(EVENTS_STREAM, { ...config, sources })).config.sources);
  return { fed, added: [...fed].filter((d) => !before.has(d)).sort() };
}
