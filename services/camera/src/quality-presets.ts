import { QualityPresets, settingsKeys, subjects } from "@picket/contracts";
import { toHeaders, watchSetting, type KV, type Logger, type NatsConnection, type SettingWatch, type Subscription } from "@picket/runtime";
import { presetsOfProfiles, profilesOfPresets, type VideoProfile } from "./profiles.js";

/** Where the profiles in force come from: the web's Settings (settings bucket) or the camera's config. */
export type PresetsSource = "settings" | "config";

/** What the camera encodes, and the QualityPresets it answers `camera.presets` with. */
export interface PresetsInForce {
  presets: QualityPresets;
  profiles: VideoProfile[];
  source: PresetsSource;
}

/** Parses the settings bucket's `devices.<d>.presets` value (JSON); throws on anything invalid. */
export function parsePresets(raw: string): QualityPresets {
  return QualityPresets.parse(JSON.parse(raw));
}

/** The value parsed, or undefined when it is not valid presets (the settings watch reports those). */
export function tryParsePresets(raw: string): QualityPresets | undefined {
  try {
    return parsePresets(raw);
  } catch {
    return undefined;
  }
}

/** The stored presets when there are any, else the configured profiles (PICKET_CAMERA_PROFILES). */
export function presetsInForce(stored: QualityPresets | undefined, configured: VideoProfile[]): PresetsInForce {
  return stored === undefined
    ? { presets: presetsOfProfiles(configured), profiles: configured, source: "config" }
    : { presets: stored, profiles: profilesOfPresets(stored), source: "settings" };
}

/** The presets stored for `device` now, else the configured profiles; a bad value counts as none (the watch reports it). */
export async function storedPresets(kv: KV, device: string, configured: VideoProfile[]): Promise<PresetsInForce> {
  const stored = await kv.get(settingsKeys.presets(device));
  return presetsInForce(stored?.operation === "PUT" ? tryParsePresets(stored.string()) : undefined, configured);
}

/**
 * Follows `device`'s presets in the settings bucket: `onChange` gets the current value, then
 * each change; a deleted key gives the configured profiles. A bad value is logged once and
 * ignored, so the last good one stays.
 */
export function watchPresets(kv: KV, device: string, configured: VideoProfile[], onChange: (next: PresetsInForce) => void, log: Logger): Promise<SettingWatch> {
  return watchSetting(kv, settingsKeys.presets(device), parsePresets, (v) => onChange(presetsInForce(v, configured)), log);
}

/**
 * Answers request/reply `picket.<d>.camera.presets` with the QualityPresets in force as JSON,
 * header `Picket-Presets-Source: settings | config`.
 */
export function servePresets(nc: NatsConnection, device: string, current: () => PresetsInForce, log: Logger): Subscription {
  return nc.subscribe(subjects.cameraPresets(device), {
    callback: (err, msg) => {
      if (err !== null) {
        log.error({ err }, "presets subscription");
        return;
      }
      const now = current();
      msg.respond(JSON.stringify(now.presets), { headers: toHeaders({ "Picket-Presets-Source": now.source }) });
    },
  });
}
