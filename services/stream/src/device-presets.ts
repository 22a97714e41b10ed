import { QualityPresets, settingsKeys } from "@picket/contracts";
import type { KV, Logger } from "@picket/runtime";

/** `devices.<device>.presets` → the device; undefined for any other key. */
export function presetsKeyDevice(key: string): string | undefined {
  const m = /^devices\.([^.]+)\.presets$/.exec(key);
  return m?.[1];
}

export interface PresetsWatch {
  /** The device's presets in force, if it has any in the settings bucket. */
  get(device: string): QualityPresets | undefined;
  stop(): void;
}

/**
 * Follows every camera's quality presets in the settings bucket (the web's Settings tab):
 * `onChange` gets each stored value, then every change; a deleted key gives undefined (the
 * camera's configured profiles). A value that does not parse is logged and ignored, so the
 * last good one stays, as with watchSetting.
 */
export async function watchDevicePresets(kv: KV, onChange: (device: string, presets: QualityPresets | undefined) => void, log: Logger): Promise<PresetsWatch> {
  const byDevice = new Map<string, QualityPresets>();
  const iter = await kv.watch({ key: settingsKeys.presets("*") });
  void (async () => {
    for await (const e of iter) {
      const device = presetsKeyDevice(e.key);
      if (device === undefined) continue;
      if (e.operation !== "PUT") {
        if (!byDevice.delete(device)) continue;
        onChange(device, undefined);
        continue;
      }
      const parsed = safeParse(e.string());
      if (!parsed.ok) {
        log.warn({ key: e.key, reason: parsed.reason.slice(0, 300), value: e.string().slice(0, 200) }, "ignoring a bad setting; the last good value stays");
        continue;
      }
      byDevice.set(device, parsed.value);
      onChange(device, parsed.value);
    }
  })().catch((err: unknown) => log.warn({ err }, "presets watch ended"));
  return { get: (device) => byDevice.get(device), stop: () => iter.stop() };
}

function safeParse(raw: string): { ok: true; value: QualityPresets } | { ok: false; reason: string } {
  try {
    return { ok: true, value: QualityPresets.parse(JSON.parse(raw)) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
