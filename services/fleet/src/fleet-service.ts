import { createHash } from "node:crypto";
import { DeviceStatusEvent, FLEET_BUCKET, Heartbeat, subjects, type DeviceState } from "@picket/contracts";
import {
  EventRecorder,
  FEED_LEAD_MS,
  Kvm,
  ensureEventsStream,
  feedDeviceEvents,
  unfeedDevice,
  realTimers,
  replicasFor,
  subscribeJson,
  type KV,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
  type Subscription,
  type Timers,
} from "@picket/runtime";
import { z } from "zod";
import { FleetDetector, type DeviceRecord, type Transition } from "./detector.js";
import { FeedKeeper } from "./feeds.js";
import { fleetMetrics } from "./fleet-metrics.js";

/** The detector's conclusions, per device (FLEET_BUCKET): a restarted hub (or a second replica) goes on from them. */
export { FLEET_BUCKET };
const StoredRecord = z.strictObject({ state: z.enum(["online", "degraded", "offline"]), since: z.number(), lastHeartbeatAt: z.number().optional() });

/** How often the detector looks at every device. */
export const CHECK_EVERY_MS = 500;
/** A check this much later than due means the hub itself stalled: its silence is not the devices'. */
export const STALL_MS = 1_500;

export interface FleetServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  /** The hub's own device id (not watched). */
  deviceId: string;
  offlineAfterMs: number;
  degradedAfterMs: number;
  maxDevices: number;
  timers?: Timers;
  wallClock?: () => number;
  /** The hub's registry: only the devices it lists are followed; one removed from it is forgotten. */
  registry?: { refresh(): Promise<ReadonlySet<string>> };
}

/** How often the registry file is looked at (it is read again only when it changed). */
export const REGISTRY_EVERY_MS = 2_000;

/**
 * Same conclusion, same id: two detectors (hub replicas) that see the same heartbeats publish
 * the same event id, and the events stream (its duplicate window) keeps one.
 */
export function transitionId(t: Transition): string {
  return `dev-${createHash("sha256").update(`${t.device}|${t.previous}|${t.state}|${t.basisAt ?? t.at}`).digest("base64url").slice(0, 24)}`;
}

/**
 * The hub's failure detector as a service: every device's heartbeats in (`picket.*.heartbeat.*`,
 * carried from the devices' buses through the leaf nodes), device offline / online / degraded
 * out as durable events (`picket.<device>.events.device`) for the bot and the web, every
 * device's figures on /metrics for Prometheus, and each device's events stream fed into the
 * hub's (FeedKeeper), so what a device records while its link is down reaches the hub later.
 */
export function createFleetService(deps: FleetServiceDeps) {
  const log = deps.log.child({ module: "fleet" });
  const timers = deps.timers ?? realTimers;
  const wall = deps.wallClock ?? Date.now;
  const detector = new FleetDetector({ offlineAfterMs: deps.offlineAfterMs, degradedAfterMs: deps.degradedAfterMs, maxDevices: deps.maxDevices, hubDevice: deps.deviceId });
  const figures = fleetMetrics(deps.metrics.registry, { states: () => detector.states(), view: (d) => detector.view(d, timers.now()) });
  const feeds = new FeedKeeper((devices) => feedDeviceEvents(deps.nc, devices, wall() - FEED_LEAD_MS), log);
  let kv: KV | undefined;
  let recorder: EventRecorder<DeviceStatusEvent> | undefined;
  let sub: Subscription | undefined;
  let tick: unknown;
  let lastTick = 0;
  /** The registered devices, when a registry is followed. */
  let registered: ReadonlySet<string> | undefined;
  let registryAt = 0;
  let connected = true;
  let stopped = false;

  const persist = (device: string, r: DeviceRecord) =>
    kv?.put(device, JSON.stringify(r)).catch((err: unknown) => log.warn({ err, device }, "could not store the device's state (a restarted hub may repeat this news)"));

  const conclude = (t: Transition) => {
    const { basisAt: _basis, ...fields } = t;
    const event: DeviceStatusEvent = { id: transitionId(t), kind: "device", ...fields };
    figures.transitions.inc({ state: t.state });
    if (t.state === "offline" && t.lastHeartbeatAt !== undefined) figures.detection.observe(Math.max(0, (t.at - t.lastHeartbeatAt) / 1000));
    const level = t.state === "online" ? "info" : "warn";
    log[level]({ device: t.device, state: t.state, previous: t.previous, reason: t.reason, downMs: t.downMs, eventId: event.id }, `device ${t.device} is ${t.state}${t.state === "online" ? "" : `: ${t.reason}`}`);
    const record = detector.states().get(t.device);
    if (record !== undefined) void persist(t.device, record);
    void recorder?.record(event);
  };

  /** A device removed from the registry: its state, its stored conclusion and the hub's feed of its events go. */
  const forget = (device: string) => {
    detector.forget(device);
    log.info({ device }, `device ${device} was removed from the hub: forgotten`);
    void kv?.delete(device).catch((err: unknown) => log.warn({ err, device }, "could not delete the removed device's stored state"));
    void unfeedDevice(deps.nc, device).catch((err: unknown) => log.warn({ err, device }, "could not stop the hub's feed of the removed device's events"));
  };
  const followRegistry = async () => {
    const registry = deps.registry;
    if (registry === undefined) return;
    registered = await registry.refresh();
    for (const device of [...detector.states().keys(), ...detector.heard()]) if (!registered.has(device)) forget(device);
  };

  const check = () => {
    const now = timers.now();
    if (deps.registry !== undefined && now - registryAt >= REGISTRY_EVERY_MS) {
      registryAt = now;
      followRegistry().catch((err: unknown) => log.warn({ err }, "could not read the hub's device registry"));
    }
    const late = now - lastTick - CHECK_EVERY_MS;
    lastTick = now;
    if (late > STALL_MS) {
      log.warn({ lateMs: Math.round(late) }, "the hub stalled: no device is called offline until each has had its time to be heard again");
      detector.holdOffline(now);
    }
    if (connected) for (const t of detector.check(now, wall())) conclude(t);
    if (connected && recorder !== undefined) void feeds.tick(detector.states().keys(), now);
    if (!stopped) tick = timers.setTimeout(check, CHECK_EVERY_MS);
  };

  const watchBus = async () => {
    for await (const s of deps.nc.status()) {
      if (s.type === "disconnect") {
        connected = false;
        log.warn("bus lost: no device is judged until it is back");
      } else if (s.type === "reconnect") {
        connected = true;
        detector.holdOffline(timers.now());
        log.info("bus back: every device has its time to be heard again before any is called offline");
      }
    }
  };

  return {
    async start(): Promise<void> {
      kv = await new Kvm(deps.nc).create(FLEET_BUCKET, { history: 1, replicas: replicasFor(deps.nc) });
      let restored = 0;
      for await (const device of await kv.keys()) {
        const entry = await kv.get(device);
        const parsed = entry === null || entry.operation !== "PUT" ? undefined : StoredRecord.safeParse(entry.json());
        if (parsed?.success === true) {
          const { lastHeartbeatAt, ...rest } = parsed.data;
          detector.restore(device, { ...rest, ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }) });
          restored++;
        } else if (parsed !== undefined) log.warn({ device }, "a stored device state is malformed: ignored");
      }
      const js = await ensureEventsStream(deps.nc);
      recorder = new EventRecorder<DeviceStatusEvent>(js, log, (e) => DeviceStatusEvent.parse(e), () => ensureEventsStream(deps.nc));
      // Before the first heartbeat: a device not listed never becomes news.
      await followRegistry();
      detector.holdOffline(timers.now());
      sub = subscribeJson(
        deps.nc,
        subjects.heartbeatsAll(),
        Heartbeat,
        (hb) => {
          figures.heartbeats.inc();
          // A device the hub does not list (removed, or a name made up) is not followed.
          if (registered !== undefined && !registered.has(hb.device)) return;
          detector.record(hb, timers.now());
        },
        { log, metrics: deps.metrics },
      );
      void watchBus();
      lastTick = timers.now();
      tick = timers.setTimeout(check, CHECK_EVERY_MS);
      log.info({ restored, offlineAfterMs: deps.offlineAfterMs, degradedAfterMs: deps.degradedAfterMs }, "fleet watching every device's heartbeats");
    },
    async stop(): Promise<void> {
      stopped = true;
      timers.clearTimeout(tick);
      sub?.unsubscribe();
      await recorder?.stop();
    },
    health() {
      return { ok: connected && sub !== undefined, nats: connected, devices: detector.states().size };
    },
    vitals(): Record<string, number> {
      const n: Record<DeviceState, number> = { online: 0, degraded: 0, offline: 0 };
      for (const r of detector.states().values()) n[r.state]++;
      return { devices: detector.states().size, online: n.online, degraded: n.degraded, offline: n.offline, fed: feeds.devices().size };
    },
  };
}
