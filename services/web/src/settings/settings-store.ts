import { QualityPresets, subjects } from "@picket/contracts";
import { natsErrors, type Logger, type NatsConnection, type SettingsStore } from "@picket/runtime";
import type { Stored } from "./arming-summary.js";

/** How long the camera gets to say which presets it runs. */
export const CAMERA_PRESETS_TIMEOUT_MS = 2_000;

const reasonOf = (err: unknown) => (err instanceof Error ? err.message.slice(0, 300) : String(err));

/**
 * One setting from the bucket, parsed, with when it was written; undefined when it is unset
 * or deleted. A stored value that does not parse is logged and read as unset (the services
 * ignore it too and keep their last good value or default).
 */
export async function readStored<T>(kv: SettingsStore, key: string, parse: (raw: string) => T, log: Logger): Promise<Stored<T> | undefined> {
  const e = await kv.get(key);
  if (e === null || e.operation !== "PUT") return undefined;
  try {
    return { value: parse(e.string()), changedAt: e.created.getTime() };
  } catch (err) {
    log.warn({ key, reason: reasonOf(err), value: e.string().slice(0, 200) }, "a stored setting does not read; showing its default");
    return undefined;
  }
}

/** JSON then a contract's parse, for `readStored`. */
export const jsonOf =
  <T>(parse: (value: unknown) => T) =>
  (raw: string): T =>
    parse(JSON.parse(raw));

/** Whether the bucket holds any setting of the device (`devices.<id>.…`); `id` must be a valid device id. */
export async function hasStoredSettings(kv: SettingsStore, id: string): Promise<boolean> {
  const keys = await kv.keys(`devices.${id}.>`);
  for await (const _key of keys) {
    keys.stop();
    return true;
  }
  return false;
}

/**
 * Asks the camera which quality presets it runs (`camera.presets`, request/reply): its
 * answer is QualityPresets as JSON, or a `Picket-Error` header or `{ ok: false, error }`
 * saying why not. Never throws: a failure comes back as a reason for a person.
 */
export async function askCameraPresets(nc: NatsConnection, device: string, timeoutMs = CAMERA_PRESETS_TIMEOUT_MS): Promise<{ ok: true; presets: QualityPresets } | { ok: false; error: string }> {
  let raw: string;
  try {
    const msg = await nc.request(subjects.cameraPresets(device), "", { timeout: timeoutMs });
    const problem = msg.headers?.get("Picket-Error") ?? "";
    if (problem !== "") return { ok: false, error: problem.slice(0, 300) };
    raw = msg.string();
  } catch (err) {
    if (err instanceof natsErrors.RequestError && err.isNoResponders()) return { ok: false, error: "the camera is not running on that device" };
    if (err instanceof natsErrors.TimeoutError || (err instanceof Error && err.cause instanceof natsErrors.TimeoutError)) return { ok: false, error: "the camera did not answer in time" };
    return { ok: false, error: `asking the camera failed: ${reasonOf(err)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: "the camera's answer is not JSON" };
  }
  const refusal = value as { ok?: unknown; error?: unknown } | null;
  if (refusal?.ok === false && typeof refusal.error === "string") return { ok: false, error: refusal.error.slice(0, 300) };
  const parsed = QualityPresets.safeParse(value);
  return parsed.success ? { ok: true, presets: parsed.data } : { ok: false, error: "the camera's presets do not read" };
}
