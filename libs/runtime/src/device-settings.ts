import { DEVICE_SETTING_NAMES, SETTINGS_BUCKET, SettingWrite, SettingWriteReply, decodeJson, parseDeviceSetting, settingsKeys, subjects, type DeviceSettingName } from "@picket/contracts";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { subscribeJson } from "./bus.js";
import type { Logger } from "./logger.js";
import type { ServiceMetrics } from "./metrics.js";

/** How long a hub waits for a device to store a setting. */
export const SETTING_WRITE_TIMEOUT_MS = 3_000;

/**
 * The part of a settings bucket the web, bot and Home Assistant bridge use. A device's own
 * services use its bucket; a hub uses deviceSettingsStore for each device, which keeps its own.
 */
export interface SettingsStore {
  get(key: string): Promise<KvEntry | null>;
  put(key: string, value: string): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  keys(filter: string): Promise<AsyncIterable<string> & { stop(): void }>;
}

/**
 * On a device: stores what a hub asks (SettingWrite on `picket.<device>.settings.write`) in the
 * device's bucket, where its services follow it live, as a change from its own web would be.
 * A value its contract refuses is refused, and nothing is stored.
 */
export function serveSettingWrites(deps: { nc: NatsConnection; kv: KV; device: string; log: Logger; metrics: ServiceMetrics }): Subscription {
  const log = deps.log.child({ module: "settings-writes" });
  return subscribeJson(
    deps.nc,
    subjects.settingsWrite(deps.device),
    SettingWrite,
    async (req, msg) => {
      const answer = (reply: SettingWriteReply) => msg.respond(JSON.stringify(reply));
      if (req.value !== null) {
        try {
          parseDeviceSetting(req.setting, req.value);
        } catch (err) {
          log.warn({ setting: req.setting, by: req.by }, "refused a setting from the hub: not a valid value");
          answer({ ok: false, error: `not a valid ${req.setting} setting: ${reasonOf(err)}` });
          return;
        }
      }
      const key = settingsKeys[req.setting](deps.device);
      try {
        if (req.value === null) await deps.kv.delete(key);
        else await deps.kv.put(key, req.value);
      } catch (err) {
        log.error({ err, setting: req.setting }, "could not store a setting from the hub");
        answer({ ok: false, error: `the device could not store it: ${reasonOf(err)}` });
        return;
      }
      log.info({ setting: req.setting, by: req.by, deleted: req.value === null }, "setting changed from the hub");
      answer({ ok: true });
    },
    { log, metrics: deps.metrics },
  );
}

/** A device did not store a setting: it refused it, did not answer, or is not reachable. */
export class SettingWriteError extends Error {}

/**
 * Device `device`'s settings as a hub reads and writes them: read from the device's bucket
 * through its JetStream domain (its id); written by asking the device (serveSettingWrites),
 * since a write to the bucket's subjects on the hub would land in the hub's own bucket. Only
 * the device's own keys (`devices.<device>.<setting>`); `by` names who changes them.
 */
export function deviceSettingsStore(nc: NatsConnection, device: string, opts: { by?: string; timeoutMs?: number } = {}): SettingsStore {
  let bucket: Promise<KV> | undefined;
  const open = () => (bucket ??= new Kvm(jetstream(nc, { domain: device })).open(SETTINGS_BUCKET).catch((err: unknown) => {
    bucket = undefined;
    throw err;
  }));
  const settingOf = (key: string): DeviceSettingName => {
    const name = DEVICE_SETTING_NAMES.find((n) => settingsKeys[n](device) === key);
    if (name === undefined) throw new SettingWriteError(`"${key}" is not one of ${device}'s settings`);
    return name;
  };
  const write = async (key: string, value: string | null): Promise<void> => {
    const request: SettingWrite = { setting: settingOf(key), value, ...(opts.by === undefined ? {} : { by: opts.by }) };
    let reply: SettingWriteReply;
    try {
      const msg = await nc.request(subjects.settingsWrite(device), JSON.stringify(request), { timeout: opts.timeoutMs ?? SETTING_WRITE_TIMEOUT_MS });
      reply = decodeJson(SettingWriteReply, msg.data, msg.subject);
    } catch (err) {
      throw new SettingWriteError(`${device} did not take the setting: ${/no responders/i.test(reasonOf(err)) ? "it is not reachable from the hub (offline, or running Picket older than the hub's)" : /timeout/i.test(reasonOf(err)) ? "it did not answer in time" : reasonOf(err)}`);
    }
    if (!reply.ok) throw new SettingWriteError(`${device} refused the setting: ${reply.error}`);
  };
  return {
    get: async (key) => (await open()).get(key),
    put: (key, value) => write(key, value),
    delete: (key) => write(key, null),
    keys: async (filter) => (await open()).keys(filter),
  };
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message.slice(0, 300) : String(err));

/**
 * Each device's settings: on a hub (`hub`: its own id) every other device's are its own
 * (deviceSettingsStore, opened once per device); elsewhere, and for the hub's own id, `local`.
 */
export function deviceSettingsStores(nc: NatsConnection, local: SettingsStore, opts: { hub?: string; by?: string } = {}): (device: string) => SettingsStore {
  const remote = new Map<string, SettingsStore>();
  return (device) => {
    if (opts.hub === undefined || device === opts.hub) return local;
    const store = remote.get(device) ?? deviceSettingsStore(nc, device, opts.by === undefined ? {} : { by: opts.by });
    remote.set(device, store);
    return store;
  };
}
