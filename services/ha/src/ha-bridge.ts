import { Heartbeat, parseArming, settingsKeys, subjects, type ArmingSetting } from "@picket/contracts";
import {
  Counter,
  Gauge,
  SettingWriteError,
  realTimers,
  subscribeJson,
  watchConnection,
  type KV,
  type Logger,
  type MediaReader,
  type NatsConnection,
  type ServiceMetrics,
  type SettingsStore,
  type Subscription,
  type Timers,
} from "@picket/runtime";
import type { BrokerTarget } from "./broker-url.js";
import { DeviceTracker } from "./device-tracker.js";
import { discoveryMessages } from "./discovery.js";
import { armedAttributes, armedNow, foldEvent, lastEventAttributes, lastEventState, parseArmedCommand, type BusEvent, type EventStates } from "./entity-states.js";
import { startEventReader } from "./event-reader.js";
import { openMqttLink, type MqttAuthError, type MqttLink } from "./mqtt-link.js";
import { armedCommandFilter, bridgeStatusTopic, deviceOfArmedCommand, deviceTopics, type Prefixes } from "./topics.js";

export interface HaBridgeDeps {
  nc: NatsConnection;
  /** The settings bucket: arming is read and written there, as the web and the bot do. */
  settings: KV;
  /** The media bucket, for the events' photos. */
  media: Pick<MediaReader, "get" | "waitFor">;
  /**
   * A hub: each device's arming is in its own settings and its photos in its own media store
   * (deviceSettingsStores, deviceMediaReaders); unset, `settings` and `media` serve every device.
   */
  ofDevice?: { settings: (device: string) => Pick<SettingsStore, "get" | "put">; media: (device: string) => Pick<MediaReader, "get" | "waitFor"> };
  log: Logger;
  metrics: ServiceMetrics;
  /** This bridge's own device id: names its MQTT client and its status topic. */
  deviceId: string;
  broker: BrokerTarget;
  discoveryPrefix: string;
  topicPrefix: string;
  /** A device whose camera and pir services have been silent this long is offline. */
  offlineAfterMs: number;
  /** The bridge's version, in the discovery configs' `origin`. */
  version: string;
  /** How long an event's photo is waited for before the image is left as it was (default 30 s). */
  snapshotWaitMs?: number;
  timers?: Timers;
  /** The broker refused the credentials: the service should stop. */
  onFatal: (err: MqttAuthError) => void;
}

const JPEG_SOI = [0xff, 0xd8];
const isJpeg = (b: Uint8Array) => b.length > 2 && b[0] === JPEG_SOI[0] && b[1] === JPEG_SOI[1];

/**
 * Home Assistant through MQTT discovery: every camera on the bus (heard by its camera or pir
 * heartbeats) becomes a Home Assistant device with a presence binary sensor, an armed switch,
 * a last event sensor and a snapshot image. States come from the events stream, the settings
 * bucket and the heartbeats; the armed switch's commands are written to the settings bucket
 * like the web's and the bot's. Everything is retained, and published again on each MQTT
 * (re)connection.
 */
export function createHaBridge(deps: HaBridgeDeps) {
  const { nc, settings } = deps;
  const settingsOf = deps.ofDevice?.settings ?? (() => settings);
  const mediaOf = deps.ofDevice?.media ?? (() => deps.media);
  const log = deps.log.child({ module: "ha-bridge" });
  const timers = deps.timers ?? realTimers;
  const p: Prefixes = { discovery: deps.discoveryPrefix, topic: deps.topicPrefix };
  const statusTopic = bridgeStatusTopic(p, deps.deviceId);
  const snapshotWaitMs = deps.snapshotWaitMs ?? 30_000;
  const tracker = new DeviceTracker(deps.offlineAfterMs);
  const bus = watchConnection(nc);
  /** Every device's entity states from its events; bounded like the tracker (events may come before heartbeats). */
  const states = new Map<string, EventStates>();
  const arming = new Map<string, ArmingSetting | undefined>();
  const fetching = new Map<string, AbortController>();
  const stopping = new AbortController();
  const registry = deps.metrics.registry;
  const commands = new Counter({ name: "picket_ha_commands_total", help: "Armed switch commands from Home Assistant, by result", labelNames: ["result"] as const, registers: [registry] });
  const snapshots = new Counter({ name: "picket_ha_snapshots_total", help: "Event photos for the snapshot image, by result", labelNames: ["result"] as const, registers: [registry] });
  new Gauge({ name: "picket_ha_devices", help: "Cameras published to Home Assistant", registers: [registry], collect() { this.set(tracker.size); } });
  new Gauge({ name: "picket_ha_mqtt_connected", help: "1 while connected to the MQTT broker", registers: [registry], collect() { this.set(link?.connected === true ? 1 : 0); } });
  let link: MqttLink | undefined;
  let heartbeats: Subscription | undefined;
  let reader: { stop(): Promise<void> } | undefined;
  let expiry: unknown;
  let armingWatch: { stop(): void } | undefined;

  const publish = (topic: string, payload: string | Uint8Array) =>
    link?.publish(topic, payload, true).catch((err: unknown) => log.warn({ err, topic }, "an MQTT publish failed; done again on the next connection"));

  const publishDiscovery = (device: string) => {
    for (const m of discoveryMessages(p, statusTopic, { id: device, version: tracker.version(device) ?? "unknown" }, deps.version)) void publish(m.topic, JSON.stringify(m.config));
  };
  const publishAvailability = (device: string) => void publish(deviceTopics(p, device).availability, tracker.isOnline(device) ? "online" : "offline");
  const publishPresence = (device: string) => void publish(deviceTopics(p, device).presence, states.get(device)?.presence ?? "OFF");
  const publishArmed = (device: string) => {
    const t = deviceTopics(p, device);
    void publish(t.armed, armedNow(arming.get(device), tracker.pirArmed(device)));
    void publish(t.armedAttributes, JSON.stringify(armedAttributes(arming.get(device))));
  };
  const publishLastEvent = (device: string) => {
    const last = states.get(device)?.last;
    if (last === undefined) return;
    const t = deviceTopics(p, device);
    void publish(t.lastEvent, lastEventState(last));
    void publish(t.lastEventAttributes, JSON.stringify(lastEventAttributes(last)));
  };

  /** Publishes the newest event photo; with `wait`, waits for the camera to store it (a new event). */
  const publishSnapshot = async (device: string, wait: boolean): Promise<void> => {
    const shown = states.get(device)?.snapshot;
    fetching.get(device)?.abort();
    fetching.delete(device);
    const topic = deviceTopics(p, device).snapshot;
    if (shown === undefined) {
      // Its event was deleted: so is the photo Home Assistant keeps (an empty retained message removes it).
      await publish(topic, new Uint8Array(0));
      return;
    }
    const abort = new AbortController();
    fetching.set(device, abort);
    const media = mediaOf(device);
    const bytes = wait ? await media.waitFor(shown.object, snapshotWaitMs, AbortSignal.any([abort.signal, stopping.signal])) : await media.get(shown.object);
    if (fetching.get(device) === abort) fetching.delete(device);
    // A newer event (or a deletion) came meanwhile: its photo is the one to show.
    if (abort.signal.aborted || states.get(device)?.snapshot?.eventId !== shown.eventId) return;
    if (bytes === undefined || !isJpeg(bytes)) {
      snapshots.inc({ result: "missing" });
      log.info({ device, eventId: shown.eventId, object: shown.object }, bytes === undefined ? "no photo for the event in the media store; the image stays as it was" : "the event's photo is not a JPEG; the image stays as it was");
      return;
    }
    await publish(topic, bytes);
    snapshots.inc({ result: "published" });
    log.debug({ device, eventId: shown.eventId, bytes: bytes.length }, "snapshot image published");
  };
  const refreshSnapshot = (device: string, wait: boolean) => {
    publishSnapshot(device, wait).catch((err: unknown) => log.warn({ err, device }, "could not publish the event's photo"));
  };

  /** Everything of one device, as after a (re)connection. */
  const publishDevice = (device: string) => {
    publishDiscovery(device);
    publishAvailability(device);
    publishPresence(device);
    publishArmed(device);
    publishLastEvent(device);
    // A photo still awaited (a new event) is published once it is stored.
    if (states.get(device)?.snapshot !== undefined && !fetching.has(device)) refreshSnapshot(device, false);
  };

  /** Takes a stored arming value; one that does not read is logged and the last good one stays. */
  const readArming = (device: string, raw: string): boolean => {
    try {
      arming.set(device, parseArming(raw));
      return true;
    } catch (err) {
      log.warn({ device, reason: (err as Error).message.slice(0, 200), value: raw.slice(0, 200) }, "ignoring a stored arming that does not read; the last good value stays");
      return false;
    }
  };

  /** The device's stored arming, read again (a hub's devices keep theirs: no watch of the hub's bucket sees them change). */
  const rereadArming = async (device: string) => {
    const entry = await settingsOf(device).get(settingsKeys.arming(device));
    if (entry === null || entry.operation !== "PUT") arming.set(device, undefined);
    else readArming(device, entry.string());
  };

  /** A new camera: its stored arming first (so the switch does not show the default before it), then its entities. */
  const addDevice = async (device: string) => {
    const unread = (err: unknown) => log.warn({ err, device }, "could not read the arming setting; the switch shows the default until it changes");
    // On a hub the device's own setting counts, whatever an older hub left in its own bucket.
    if (deps.ofDevice !== undefined) await rereadArming(device).catch(unread);
    else if (!arming.has(device)) {
      const entry = await settings.get(settingsKeys.arming(device)).catch(unread);
      if (entry?.operation === "PUT" && !arming.has(device)) readArming(device, entry.string());
    }
    log.info({ device, version: tracker.version(device) }, "camera seen on the bus; publishing its Home Assistant entities");
    publishDevice(device);
  };

  /** Every device's arming, live: one watch over the settings bucket's `devices.*.arming` keys. */
  const followArming = async () => {
    // A hub's devices keep their arming: its own bucket has none of theirs to watch.
    if (deps.ofDevice !== undefined) return;
    const iter = await settings.watch({ key: settingsKeys.arming("*") });
    armingWatch = iter;
    void (async () => {
      for await (const e of iter) {
        const device = e.key.split(".")[1] ?? "";
        if (e.operation !== "PUT") arming.set(device, undefined);
        else if (!readArming(device, e.string())) continue;
        if (tracker.has(device)) publishArmed(device);
      }
    })().catch((err: unknown) => log.warn({ err }, "the arming watch ended"));
  };

  const scheduleExpiry = () => {
    timers.clearTimeout(expiry);
    const inMs = tracker.nextExpiryIn(timers.now());
    if (inMs === undefined) return;
    expiry = timers.setTimeout(() => {
      for (const device of tracker.expire(timers.now())) {
        log.info({ device, silentMs: deps.offlineAfterMs }, "camera silent; unavailable in Home Assistant");
        publishAvailability(device);
      }
      scheduleExpiry();
    }, inMs + 1);
  };

  const onHeartbeat = (hb: Heartbeat) => {
    const change = tracker.heard(hb, timers.now());
    if (change === undefined) return;
    const { device } = change;
    if (change.isNew) addDevice(device).catch((err: unknown) => log.error({ err, device }, "could not publish a camera's entities"));
    else {
      if (change.versionChanged) publishDiscovery(device);
      if (change.cameOnline) {
        log.info({ device }, "camera heard again; available in Home Assistant");
        publishAvailability(device);
      }
      if (change.pirArmedChanged && deps.ofDevice !== undefined) {
        // On a hub, the pir's heartbeat is the news that the device's arming changed: read the setting behind it.
        rereadArming(device)
          .catch((err: unknown) => log.warn({ err, device }, "could not read the device's arming setting; the switch follows its PIR"))
          .finally(() => publishArmed(device));
      } else if (change.pirArmedChanged) publishArmed(device);
    }
    scheduleExpiry();
  };

  const onEvent = (event: BusEvent) => {
    const device = event.device;
    const prev = states.get(device) ?? {};
    const next = foldEvent(prev, event);
    if (next === prev) return;
    if (!states.has(device) && states.size >= 1000) return;
    states.set(device, next);
    if (!tracker.has(device)) return;
    if (next.presence !== prev.presence) publishPresence(device);
    if (next.last !== prev.last) publishLastEvent(device);
    if (next.snapshot?.eventId !== prev.snapshot?.eventId) refreshSnapshot(device, true);
  };

  const onCommand = async (topic: string, payload: Buffer, retained: boolean) => {
    const device = deviceOfArmedCommand(p, topic);
    const refuse = (reason: string) => {
      commands.inc({ result: "refused" });
      log.warn({ topic, reason, payload: { bytes: payload.length, head: payload.subarray(0, 64).toString("utf8") } }, "ignored an MQTT command");
    };
    if (device === undefined) return refuse("not an armed switch command topic of a valid device id");
    // A retained command would arm or disarm again at every reconnection, over later changes from the web or the bot.
    if (retained) return refuse("a retained command is not taken: send it without retain");
    if (!tracker.has(device)) return refuse(`no camera "${device}" has been heard from`);
    const command = parseArmedCommand(payload);
    if (!command.ok) return refuse(command.reason);
    try {
      await settingsOf(device).put(settingsKeys.arming(device), command.arming);
    } catch (err) {
      commands.inc({ result: "failed" });
      if (err instanceof SettingWriteError) log.error({ device, reason: err.message }, "could not change the arming: the device did not take it; Home Assistant's switch keeps the stored state");
      else log.error({ err, device }, "could not change the arming: the bus is unavailable; Home Assistant's switch keeps the stored state");
      return;
    }
    commands.inc({ result: "applied" });
    log.info({ device, arming: command.arming }, "arming changed from Home Assistant");
    if (deps.ofDevice !== undefined) {
      readArming(device, command.arming);
      publishArmed(device);
    }
  };

  return {
    /** Follows heartbeats and events, then connects to the broker (which it keeps trying). */
    async start(): Promise<void> {
      await followArming();
      heartbeats = subscribeJson(nc, subjects.heartbeatsAll(), Heartbeat, onHeartbeat, { log, metrics: deps.metrics });
      reader = startEventReader({ nc, log, metrics: deps.metrics, onEvent });
      link = openMqttLink({
        broker: deps.broker,
        clientId: `picket-ha-${deps.deviceId}`,
        statusTopic,
        subscriptions: [armedCommandFilter(p)],
        log,
        onConnect: async () => {
          for (const device of tracker.list()) publishDevice(device);
        },
        onMessage: (topic, payload, retained) => void onCommand(topic, payload, retained),
        onFatal: deps.onFatal,
      });
    },
    /** Says offline to Home Assistant and disconnects, then stops following the bus. */
    async stop(): Promise<void> {
      stopping.abort();
      timers.clearTimeout(expiry);
      await link?.close();
      heartbeats?.unsubscribe();
      armingWatch?.stop();
      await reader?.stop();
    },
    health() {
      return { ok: bus.connected && link?.connected === true, nats: bus.connected, mqtt: link?.connected === true, devices: tracker.size, online: tracker.list().filter((d) => tracker.isOnline(d)).length };
    },
    vitals(): Record<string, number> {
      return { mqttConnected: link?.connected === true ? 1 : 0, devices: tracker.size };
    },
  };
}
