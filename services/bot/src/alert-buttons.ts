import { isDeviceId } from "@picket/contracts";

/** What a command or a button asks for. */
export type AlertAction =
  | { kind: "arm" }
  | { kind: "disarm" }
  | { kind: "snooze"; ms: number }
  | { kind: "unsnooze" }
  /** A photo from that device's camera now. */
  | { kind: "snapshot"; device: string }
  /** A clip of that device's last seconds. */
  | { kind: "clip"; device: string };

/** An inline button: Telegram returns its callback data (at most 64 bytes) on a press, or it opens a link. */
export type Button = { text: string; callback_data: string } | { text: string; url: string };

/** Telegram's limit on a button's callback data. */
const MAX_DATA_BYTES = 64;

/**
 * The buttons under an alert photo: Live (a link to the web UI, when its public address is
 * known), Clip, Snooze 1 h, Disarm. A device whose id is too long for callback data gets no Clip button.
 */
export function alertButtons(device: string, liveUrl?: string, opts: { disarm?: boolean } = {}): Button[][] {
  const clip = `clip:${device}`;
  const first: Button[] = [];
  if (liveUrl !== undefined) first.push({ text: "📺 Live", url: liveUrl });
  if (Buffer.byteLength(clip) <= MAX_DATA_BYTES) first.push({ text: "🎬 Clip", callback_data: clip });
  // No Disarm on a hub's alerts: arming is set on each camera.
  const second: Button[] = [{ text: "🔕 Snooze 1 h", callback_data: "snooze:3600" }, ...(opts.disarm === false ? [] : [{ text: "⏸ Disarm", callback_data: "disarm" }])];
  return first.length > 0 ? [first, second] : [second];
}

/** One button per device, for a command that needs to know which camera (`snapshot`, `clip`). */
export function deviceButtons(kind: "snapshot" | "clip", devices: readonly string[]): Button[][] {
  const icon = kind === "snapshot" ? "📷" : "🎬";
  return devices
    .map((d) => ({ text: `${icon} ${d}`, callback_data: `${kind === "snapshot" ? "snap" : "clip"}:${d}` }))
    .filter((b) => Buffer.byteLength(b.callback_data) <= MAX_DATA_BYTES)
    .map((b) => [b]);
}

/**
 * Reads a button's callback data. Pure. Anything else (an old button, a forged payload) is
 * undefined: callback data comes from the client and is checked like any input.
 */
export function parseAction(data: string | undefined): AlertAction | undefined {
  if (data === "disarm") return { kind: "disarm" };
  if (data === "arm") return { kind: "arm" };
  const device = /^(snap|clip):(.+)$/.exec(data ?? "");
  if (device !== null) {
    const id = device[2] as string;
    if (!isDeviceId(id)) return undefined;
    return device[1] === "snap" ? { kind: "snapshot", device: id } : { kind: "clip", device: id };
  }
  const m = /^snooze:(\d{2,6})$/.exec(data ?? "");
  if (m === null) return undefined;
  const s = Number(m[1]);
  return s >= 60 && s <= 7 * 86_400 ? { kind: "snooze", ms: s * 1000 } : undefined;
}
