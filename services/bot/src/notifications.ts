import { NotificationSettings, settingsKeys } from "@picket/contracts";
import { watchSetting, type KV, type Logger, type SettingWatch } from "@picket/runtime";

/** What applies while nothing is stored: clips on, with sound, no quiet hours. */
export const DEFAULT_NOTIFICATIONS: NotificationSettings = Object.freeze(NotificationSettings.parse({}));

/** Reads the stored value (JSON). Throws on anything that is not NotificationSettings. */
export function parseNotificationSettings(raw: string): NotificationSettings {
  return NotificationSettings.parse(JSON.parse(raw));
}

const minuteFormats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight at `atMs` in `timeZone` (the process's zone when undefined). */
export function localMinutes(atMs: number, timeZone?: string): number {
  const key = timeZone ?? "";
  let fmt = minuteFormats.get(key);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", { ...(timeZone === undefined ? {} : { timeZone }), hour: "numeric", minute: "numeric", hourCycle: "h23" });
    minuteFormats.set(key, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]));
  return Number(parts.hour) * 60 + Number(parts.minute);
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `atMs` falls in the daily quiet hours, by the local wall clock of `timeZone`: from
 * `from` inclusive to `to` exclusive; a `to` before `from` runs past midnight, and `from == to`
 * is the whole day (as an arming window is). Null quiet hours are never quiet.
 */
export function isQuietAt(quiet: NotificationSettings["quietHours"], atMs: number, timeZone?: string): boolean {
  if (quiet === null) return false;
  const now = localMinutes(atMs, timeZone);
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return true;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** Whether an alert sent at `atMs` should arrive without sound: always when `silent`, else during quiet hours. */
export function isSilentAt(settings: NotificationSettings, atMs: number, timeZone?: string): boolean {
  return settings.silent || isQuietAt(settings.quietHours, atMs, timeZone);
}

/**
 * The household's notification preferences (`notifications` in the settings bucket), followed
 * live: the web's Settings page changes them and the next alert obeys. A value that does not
 * read is logged and the last good one stays.
 */
export async function openNotifications(kv: KV, log: Logger, timeZone?: string) {
  let current = DEFAULT_NOTIFICATIONS;
  const watch: SettingWatch = await watchSetting(
    kv,
    settingsKeys.notifications(),
    parseNotificationSettings,
    (value) => {
      current = value ?? DEFAULT_NOTIFICATIONS;
      log.info({ clip: current.clip, silent: current.silent, quietHours: current.quietHours, stored: value !== undefined }, "notification settings");
    },
    log,
  );
  return {
    get settings(): NotificationSettings {
      return current;
    },
    /** Whether an alert (or its clip) sent at `atMs` goes without sound. */
    silentAt: (atMs: number): boolean => isSilentAt(current, atMs, timeZone),
    stop: (): void => watch.stop(),
  };
}

export type Notifications = Awaited<ReturnType<typeof openNotifications>>;
