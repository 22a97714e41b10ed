import type { ArmingSetting, ArmingWindow } from "@picket/contracts";
import { DAY_MS, ZoneClock, validateTimeZone } from "./zone-clock.js";

export { validateTimeZone };

/** How far ahead `nextChange` looks: a weekly schedule flips within a week, or never. */
const HORIZON_DAYS = 8;
const HORIZON_MS = HORIZON_DAYS * DAY_MS;
/** Windows start at most this many local days before the day asked about and still cover it (24 h + a DST hour). */
const DAYS_BEHIND = 2;
/** Days of window starts computed past the day asked about: enough for the 8-day horizon plus a 25 h window. */
const DAYS_AHEAD = 10;
const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

interface Span {
  start: number;
  end: number;
}

/**
 * Whether the device is armed at a given instant: always, never, or during weekly windows
 * in the device's IANA time zone.
 *
 * A window starts on each of its `days` (0 = Sunday, local) at `from` and ends at `to` the
 * same day, or the next day when `to` is before `from`; `from == to` is a full day (until the
 * same wall time next day, so 23 h or 25 h across a DST change). A window is armed from its
 * start inclusive to its end exclusive; windows that touch or overlap form one armed span.
 *
 * DST: a `from` or `to` that the clocks skip (spring forward) means the first instant after
 * the gap. On a fall-back day a `from` shown twice means its first showing and a `to` its
 * second, so the repeated hour never ends a window early or twice.
 *
 * Pure: the answer depends only on the instant asked about, so a wall-clock jump needs no care here.
 */
export class ArmingPolicy {
  private readonly zone: ZoneClock | undefined;
  private cache: { day: number; spans: Span[] } | undefined;

  constructor(
    readonly setting: ArmingSetting,
    readonly timeZone: string,
  ) {
    // Validate the zone even for a fixed mode: a bad zone in the config should fail at start.
    const zone = new ZoneClock(timeZone);
    this.zone = setting.mode === "scheduled" ? zone : undefined;
  }

  get mode(): ArmingSetting["mode"] {
    return this.setting.mode;
  }

  isArmed(atMs: number): boolean {
    if (this.setting.mode !== "scheduled") return this.setting.mode === "armed";
    return this.spanAt(atMs) !== undefined;
  }

  /**
   * The next instant after `atMs` at which `isArmed` changes, or undefined when it does not
   * change within 8 days (always `armed`/`disarmed`, or windows covering the whole week).
   */
  nextChange(atMs: number): number | undefined {
    if (this.setting.mode !== "scheduled") return undefined;
    const spans = this.spans(atMs, HORIZON_DAYS + 1);
    const inside = spans.find((s) => s.start <= atMs && atMs < s.end);
    const next = inside !== undefined ? inside.end : spans.find((s) => s.start > atMs)?.start;
    return next !== undefined && next - atMs <= HORIZON_MS ? next : undefined;
  }

  /** E.g. `scheduled (Europe/Berlin): Mon–Fri 22:00–07:00 (next day); Sun,Sat all day from 00:00`. */
  describe(): string {
    if (this.setting.mode !== "scheduled") return this.setting.mode;
    return `scheduled (${this.timeZone}): ${this.setting.schedule.map(describeWindow).join("; ")}`;
  }

  private spanAt(atMs: number): Span | undefined {
    return this.spans(atMs, 0).find((s) => s.start <= atMs && atMs < s.end);
  }

  /**
   * Armed spans, merged, from window starts a couple of local days before `atMs`'s local day to
   * 10 days after. The cached list serves a later day too while it holds `daysAhead` days of
   * starts past it: none for `isArmed`, the horizon and a day for `nextChange`.
   */
  private spans(atMs: number, daysAhead: number): Span[] {
    const zone = this.zone as ZoneClock;
    const day = Math.floor(zone.wall(atMs) / DAY_MS);
    const cached = this.cache;
    if (cached !== undefined && day >= cached.day && day + daysAhead <= cached.day + DAYS_AHEAD) return cached.spans;
    const windows = this.setting.mode === "scheduled" ? this.setting.schedule : [];
    const raw: Span[] = [];
    for (let d = day - DAYS_BEHIND; d <= day + DAYS_AHEAD; d++) {
      const weekday = (((d + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
      for (const w of windows) {
        if (!w.days.includes(weekday)) continue;
        const from = minutes(w.from);
        const to = minutes(w.to);
        const endDay = to <= from ? d + 1 : d;
        const start = zone.instant(d * DAY_MS + from * 60_000, "earliest");
        const end = zone.instant(endDay * DAY_MS + to * 60_000, "latest");
        if (end > start) raw.push({ start, end });
      }
    }
    raw.sort((a, b) => a.start - b.start);
    const merged: Span[] = [];
    for (const s of raw) {
      const last = merged[merged.length - 1];
      if (last !== undefined && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else merged.push({ ...s });
    }
    this.cache = { day, spans: merged };
    return merged;
  }
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function describeWindow(w: ArmingWindow): string {
  const span = w.from === w.to ? `all day from ${w.from}` : `${w.from}–${w.to}${w.to < w.from ? " (next day)" : ""}`;
  return `${describeDays(w.days)} ${span}`;
}

/** Runs of three or more consecutive days as `Mon–Fri`, the rest listed: `Sat,Sun`. */
function describeDays(days: readonly number[]): string {
  const set = [...new Set(days)].sort((a, b) => a - b);
  if (set.length === 7) return "daily";
  const parts: string[] = [];
  for (let i = 0; i < set.length; ) {
    let j = i;
    while (j + 1 < set.length && (set[j + 1] as number) === (set[j] as number) + 1) j++;
    const first = DAY_NAMES[set[i] as number];
    const last = DAY_NAMES[set[j] as number];
    if (j - i >= 2) parts.push(`${first}–${last}`);
    else for (let k = i; k <= j; k++) parts.push(DAY_NAMES[set[k] as number] as string);
    i = j + 1;
  }
  return parts.join(",");
}
