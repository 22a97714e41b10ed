import { validateTimeZone } from "@picket/runtime";
/**
 * Local wall time in one IANA time zone, from `Intl.DateTimeFormat` alone.
 *
 * A "wall" value is local date and time expressed as if it were UTC milliseconds
 * (`Date.UTC(y, m, d, h, min)`), so local days are plain multiples of `DAY_MS`.
 */
export const DAY_MS = 86_400_000;

/** Throws a readable error for a name `Intl` does not know; returns the zone's canonical spelling. */
export { validateTimeZone };

export class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: validateTimeZone(timeZone),
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** The local wall time at instant `utc` (whole seconds: zone offsets are whole seconds). */
  wall(utc: number): number {
    const p = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    for (const part of this.fmt.formatToParts(utc)) {
      if (part.type in p) p[part.type as keyof typeof p] = Number(part.value);
    }
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  }

  /** Local minus UTC at instant `utc`, ms. */
  offset(utc: number): number {
    return this.wall(utc) - Math.floor(utc / 1000) * 1000;
  }

  /**
   * The instant at which the local clock shows `wall`.
   * - Skipped by a spring-forward change: the first instant that exists after it (the change itself).
   * - Shown twice by a fall-back change: the first showing for `"earliest"`, the second for `"latest"`.
   * Assumes at most one offset change within a day either side, as in every real zone.
   */
  instant(wall: number, prefer: "earliest" | "latest"): number {
    const before = this.offset(wall - DAY_MS);
    const after = this.offset(wall + DAY_MS);
    const valid = [...new Set([wall - before, wall - after])].filter((utc) => this.wall(utc) === wall).sort((a, b) => a - b);
    if (valid.length > 0) return (prefer === "earliest" ? valid[0] : valid[valid.length - 1]) as number;
    return this.changeBetween(wall - after, wall - before, after);
  }

  /** The first instant in (lo, hi] whose offset is `target`, by bisection to the second. */
  private changeBetween(lo: number, hi: number, target: number): number {
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2000) * 1000;
      if (mid <= lo) break;
      if (this.offset(mid) === target) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
