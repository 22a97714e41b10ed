import { Snooze, parseArming, settingsKeys, type ArmingSetting } from "@picket/contracts";
import { watchSetting, type KV, type Logger, type SettingWatch } from "@picket/runtime";

/** The longest snooze: a forgotten one must not silence the house for weeks. */
export const MAX_SNOOZE_MS = 7 * 24 * 3_600_000;

/**
 * Parses a snooze length as people type it: `30m`, `1h`, `2h30m`, `90` (minutes), `1d`.
 * Throws a RangeError with a message for the chat when it is not one, or out of range.
 */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d{1,5}$/.test(t)) return check(Number(t) * 60_000, text);
  const m = /^(?:(\d{1,3})d)?\s*(?:(\d{1,4})h)?\s*(?:(\d{1,5})m(?:in)?)?$/.exec(t);
  if (t === "" || m === null || (m[1] ?? m[2] ?? m[3]) === undefined) throw new RangeError(`"${text.slice(0, 20)}" is not a duration: try 30m, 1h or 2h30m`);
  return check(Number(m[1] ?? 0) * 86_400_000 + Number(m[2] ?? 0) * 3_600_000 + Number(m[3] ?? 0) * 60_000, text);
}

function check(ms: number, text: string): number {
  if (ms < 60_000 || ms > MAX_SNOOZE_MS) throw new RangeError(`"${text.slice(0, 20)}" is out of range: from 1 minute to 7 days`);
  return ms;
}

/** `1 h 30 min`, `45 min`, `2 d 3 h`. */
export function describeDuration(ms: number): string {
  const min = Math.round(ms / 60_000);
  const [d, h, m] = [Math.floor(min / 1_440), Math.floor((min % 1_440) / 60), min % 60];
  return [d > 0 ? `${d} d` : "", h > 0 ? `${h} h` : "", m > 0 ? `${m} min` : ""].filter(Boolean).join(" ") || "0 min";
}

/**
 * What the household changes from Telegram: arming (the pir service follows the settings
 * bucket live) and the snooze (the bot's own: alerts are held back, events still recorded).
 * Reads follow the bucket, so a change from the CLI or another bot is seen at once.
 */
export async function openHousehold(kv: KV, device: string, log: Logger) {
  let snooze: Snooze | undefined;
  let arming: ArmingSetting | undefined;
  const watches: SettingWatch[] = [
    await watchSetting(kv, settingsKeys.snooze(device), (raw) => Snooze.parse(JSON.parse(raw)), (v) => (snooze = v), log),
    await watchSetting(kv, settingsKeys.arming(device), parseArming, (v) => (arming = v), log),
  ];
  return {
    /** Until when alerts are snoozed, if they are at `now`. */
    snoozedUntil(now = Date.now()): number | undefined {
      return snooze !== undefined && snooze.until > now ? snooze.until : undefined;
    },
    /** The stored arming, undefined when never set (the pir service's default applies). */
    get arming(): ArmingSetting | undefined {
      return arming;
    },
    async setArming(mode: "armed" | "disarmed"): Promise<void> {
      await kv.put(settingsKeys.arming(device), mode);
      arming = { mode };
    },
    async snooze(ms: number, by: string, now = Date.now()): Promise<number> {
      const value: Snooze = { until: now + ms, by };
      await kv.put(settingsKeys.snooze(device), JSON.stringify(value));
      snooze = value;
      return value.until;
    },
    async unsnooze(): Promise<void> {
      await kv.delete(settingsKeys.snooze(device));
      snooze = undefined;
    },
    stop(): void {
      for (const w of watches) w.stop();
    },
  };
}

export type Household = Awaited<ReturnType<typeof openHousehold>>;
