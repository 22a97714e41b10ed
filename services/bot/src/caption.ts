import type { PresenceEvent, Trigger } from "@picket/contracts";

/**
 * The words of the bot's messages. Pure. Everything is sent without `parse_mode`, so the
 * text is shown exactly as written: nothing needs escaping, and nothing in it (a device
 * id, a camera's error text) can turn into markup or a link preview.
 */

/** Telegram's limit for a photo caption, in characters. */
export const CAPTION_LIMIT = 1024;

const TRIGGER_WORDS: Record<Trigger, string> = { pir: "motion sensor (PIR)", motion: "camera motion", test: "test request" };

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * `2024-05-01 14:03:22 CEST` in `timeZone` (an IANA name), or in the process's time zone
 * when it is undefined. Time zones without a short name show as an offset (`GMT+2`).
 */
export function formatLocalTime(atMs: number, timeZone?: string): string {
  const key = timeZone ?? "";
  let fmt = formatters.get(key);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", {
      ...(timeZone === undefined ? {} : { timeZone }),
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formatters.set(key, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName ?? ""}`.trimEnd();
}

/** An alert sent this long after its event says so (a device's link to the hub, or Telegram, was down). */
export const LATE_ALERT_MS = 60_000;

/**
 * The caption of an alert photo: what happened, where, when, and what noticed it; and, when it
 * goes out `sentAt` LATE_ALERT_MS or more after the event, how late, so nobody runs to the door
 * for someone who left an hour ago.
 */
export function alertCaption(event: Pick<PresenceEvent, "device" | "at" | "triggers" | "test">, timeZone?: string, sentAt = event.at): string {
  const when = formatLocalTime(event.at, timeZone);
  const by = event.triggers.map((t) => TRIGGER_WORDS[t]).join(" + ");
  const lines = event.test
    ? [`🧪 Test alarm — ${event.device}`, when, "This is a test: alerts reach this chat."]
    : [`🚨 Someone is at ${event.device}`, when, `Noticed by: ${by}`];
  const late = sentAt - event.at;
  if (late >= LATE_ALERT_MS) lines.push(`⏱ Sent ${lateness(late)} late: it could not go out then.`);
  return clip(lines.join("\n"), CAPTION_LIMIT);
}

/** `3 min`, `2 h 5 min`, `2 days`. */
function lateness(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** The caption of the photo that answers `/ping`. */
export function pingCaption(device: string, atMs: number, timeZone?: string): string {
  return clip(`pong — ${device} ${formatLocalTime(atMs, timeZone)}`, CAPTION_LIMIT);
}

/** Text sent instead of a photo when the camera could not give one, so the alert is not lost. */
export function withoutPhoto(caption: string, reason: string): string {
  return clip(`${caption}\n(no photo: ${plain(reason)})`, 4096);
}

/** The answer to /start and /help. */
export function helpText(device: string): string {
  return [
    `Picket on ${device}.`,
    "You get a photo here when someone is there, with buttons for a clip, to snooze alerts or disarm.",
    "/status — armed or not, snoozed or not, the last alert",
    "/snapshot [camera] — a photo from the camera now",
    "/clip [camera] [seconds] — a video of the last seconds (10 unless you say, up to 60)",
    "/events — the last alerts, with their photos",
    "/devices — the cameras, online or not",
    "/arm, /disarm — alarms on or off",
    "/snooze 1h — no alerts for a while (30m, 2h30m, …); /snooze off ends it",
  ].join("\n");
}

/** Makes untrusted text one tidy line: control characters become spaces, length is capped. */
export function plain(text: string, max = 200): string {
  return clip(text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim(), max);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
