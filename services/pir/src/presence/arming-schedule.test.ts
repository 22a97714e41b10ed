import { describe, expect, it } from "vitest";
import type { ArmingWindow } from "@picket/contracts";
import { ArmingPolicy, validateTimeZone } from "./arming-schedule.js";

const H = 3_600_000;
const DAY = 24 * H;
/** A UTC instant: `utc(2024, 3, 31, 1, 30)` = 2024-03-31T01:30Z (month 1-based). */
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const scheduled = (tz: string, ...schedule: ArmingWindow[]) => new ArmingPolicy({ mode: "scheduled", schedule }, tz);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

// 2024-06-03 is a Monday.
describe("ArmingPolicy: fixed modes", () => {
  it("armed and disarmed never change", () => {
    const armed = new ArmingPolicy({ mode: "armed" }, "UTC");
    const disarmed = new ArmingPolicy({ mode: "disarmed" }, "UTC");
    expect(armed.isArmed(utc(2024, 6, 3))).toBe(true);
    expect(disarmed.isArmed(utc(2024, 6, 3))).toBe(false);
    expect(armed.nextChange(utc(2024, 6, 3))).toBeUndefined();
    expect(disarmed.nextChange(utc(2024, 6, 3))).toBeUndefined();
    expect(armed.describe()).toBe("armed");
  });

  it("rejects an unknown time zone, even for a fixed mode", () => {
    expect(() => new ArmingPolicy({ mode: "armed" }, "Mars/Olympus")).toThrow(/not a known time zone.*IANA/);
    expect(() => validateTimeZone("")).toThrow(/not a known time zone/);
    expect(validateTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(validateTimeZone("europe/berlin")).toBe("Europe/Berlin");
  });
});

describe("ArmingPolicy: weekly windows", () => {
  it("a weekday window: Mon–Fri 08:00–18:00, start inclusive, end exclusive", () => {
    const p = scheduled("UTC", { days: [1, 2, 3, 4, 5], from: "08:00", to: "18:00" });
    expect(p.isArmed(utc(2024, 6, 3, 7, 59))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 3, 8, 0))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 3, 17, 59))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 3, 18, 0))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 8, 12, 0))).toBe(false); // Saturday
    expect(iso(p.nextChange(utc(2024, 6, 3, 7, 0)))).toBe("2024-06-03T08:00:00.000Z");
    expect(iso(p.nextChange(utc(2024, 6, 3, 12, 0)))).toBe("2024-06-03T18:00:00.000Z");
    // Friday evening → Monday morning.
    expect(iso(p.nextChange(utc(2024, 6, 7, 18, 0)))).toBe("2024-06-10T08:00:00.000Z");
    expect(p.describe()).toBe("scheduled (UTC): Mon–Fri 08:00–18:00");
  });

  it("local time: the same window in Berlin is two hours earlier in UTC in summer", () => {
    const p = scheduled("Europe/Berlin", { days: [1], from: "08:00", to: "18:00" });
    expect(p.isArmed(utc(2024, 6, 3, 5, 59))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 3, 6, 0))).toBe(true);
    expect(iso(p.nextChange(utc(2024, 6, 3, 6, 0)))).toBe("2024-06-03T16:00:00.000Z");
  });

  it("weekend full days (from == to) merge into one span Sat 00:00 → Mon 00:00", () => {
    const p = scheduled("UTC", { days: [0, 6], from: "00:00", to: "00:00" });
    expect(p.isArmed(utc(2024, 6, 7, 23, 59))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 8, 0, 0))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 9, 23, 59))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 10, 0, 0))).toBe(false);
    // No flip at Sunday midnight where the two days touch.
    expect(iso(p.nextChange(utc(2024, 6, 8, 10, 0)))).toBe("2024-06-10T00:00:00.000Z");
    expect(p.describe()).toBe("scheduled (UTC): Sun,Sat all day from 00:00");
  });

  it("a full day from a time other than midnight runs 24 h into the next day", () => {
    const p = scheduled("UTC", { days: [3], from: "12:00", to: "12:00" });
    expect(p.isArmed(utc(2024, 6, 5, 12, 0))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 6, 11, 59))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 6, 12, 0))).toBe(false);
  });

  it("an overnight window across the week boundary: Saturday 22:00 → Sunday 07:00", () => {
    const p = scheduled("UTC", { days: [6], from: "22:00", to: "07:00" });
    expect(p.isArmed(utc(2024, 6, 8, 21, 59))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 8, 23, 0))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 9, 6, 59))).toBe(true);
    expect(p.isArmed(utc(2024, 6, 9, 7, 0))).toBe(false);
    expect(p.isArmed(utc(2024, 6, 9, 22, 30))).toBe(false); // starts on Saturdays only
    expect(p.isArmed(utc(2024, 6, 8, 3, 0))).toBe(false); // Saturday early morning: Friday did not start one
    expect(iso(p.nextChange(utc(2024, 6, 8, 12, 0)))).toBe("2024-06-08T22:00:00.000Z");
    expect(iso(p.nextChange(utc(2024, 6, 8, 23, 0)))).toBe("2024-06-09T07:00:00.000Z");
    expect(iso(p.nextChange(utc(2024, 6, 9, 8, 0)))).toBe("2024-06-15T22:00:00.000Z");
    expect(p.describe()).toBe("scheduled (UTC): Sat 22:00–07:00 (next day)");
  });

  it("every night Sun–Sat 22:00–07:00 never gives a spurious change at midnight", () => {
    const p = scheduled("UTC", { days: [0, 1, 2, 3, 4, 5, 6], from: "22:00", to: "07:00" });
    expect(p.isArmed(utc(2024, 6, 9, 0, 0))).toBe(true);
    expect(iso(p.nextChange(utc(2024, 6, 8, 23, 0)))).toBe("2024-06-09T07:00:00.000Z");
    expect(p.describe()).toBe("scheduled (UTC): daily 22:00–07:00 (next day)");
  });

  it("overlapping windows form one span", () => {
    const p = scheduled("UTC", { days: [1], from: "08:00", to: "12:00" }, { days: [1], from: "11:00", to: "14:00" });
    expect(iso(p.nextChange(utc(2024, 6, 3, 9, 0)))).toBe("2024-06-03T14:00:00.000Z");
  });

  it("nextChange is undefined when windows cover the whole week", () => {
    const p = scheduled("Europe/Berlin", { days: [0, 1, 2, 3, 4, 5, 6], from: "00:00", to: "00:00" });
    expect(p.isArmed(utc(2024, 3, 31, 1, 30))).toBe(true);
    expect(p.nextChange(utc(2024, 3, 31, 1, 30))).toBeUndefined();
  });
});

describe("ArmingPolicy: daylight saving time", () => {
  // Europe/Berlin 2024: spring forward Sun 31 Mar 02:00 CET → 03:00 CEST (01:00Z);
  // fall back Sun 27 Oct 03:00 CEST → 02:00 CET (01:00Z).
  it("Berlin spring forward: 01:30–03:30 lasts one hour", () => {
    const p = scheduled("Europe/Berlin", { days: [0], from: "01:30", to: "03:30" });
    expect(p.isArmed(utc(2024, 3, 31, 0, 29))).toBe(false);
    expect(p.isArmed(utc(2024, 3, 31, 0, 30))).toBe(true); // 01:30 CET
    expect(p.isArmed(utc(2024, 3, 31, 1, 29))).toBe(true); // 03:29 CEST
    expect(p.isArmed(utc(2024, 3, 31, 1, 30))).toBe(false); // 03:30 CEST
    expect(iso(p.nextChange(utc(2024, 3, 31, 0, 30)))).toBe("2024-03-31T01:30:00.000Z");
  });

  it("Berlin spring forward: a window from the skipped 02:30 starts at 03:00 CEST, the first instant after", () => {
    const p = scheduled("Europe/Berlin", { days: [0], from: "02:30", to: "05:00" });
    expect(p.isArmed(utc(2024, 3, 31, 0, 59))).toBe(false);
    expect(p.isArmed(utc(2024, 3, 31, 1, 0))).toBe(true);
    expect(iso(p.nextChange(utc(2024, 3, 30, 12, 0)))).toBe("2024-03-31T01:00:00.000Z");
  });

  it("Berlin spring forward: a window ending at the skipped 02:30 ends at 03:00 CEST", () => {
    const p = scheduled("Europe/Berlin", { days: [6], from: "22:00", to: "02:30" });
    expect(iso(p.nextChange(utc(2024, 3, 30, 12, 0)))).toBe("2024-03-30T21:00:00.000Z");
    expect(iso(p.nextChange(utc(2024, 3, 30, 21, 0)))).toBe("2024-03-31T01:00:00.000Z");
  });

  it("Berlin spring forward: a window entirely inside the gap does not happen that day", () => {
    const p = scheduled("Europe/Berlin", { days: [0], from: "02:10", to: "02:40" });
    expect(p.isArmed(utc(2024, 3, 31, 1, 0))).toBe(false);
    // The next one is a week later, 02:10 CEST.
    expect(iso(p.nextChange(utc(2024, 3, 30, 12, 0)))).toBe("2024-04-07T00:10:00.000Z");
  });

  it("Berlin fall back: 01:30–03:30 lasts three hours, armed through both showings of 02:xx", () => {
    const p = scheduled("Europe/Berlin", { days: [0], from: "01:30", to: "03:30" });
    expect(p.isArmed(utc(2024, 10, 26, 23, 29))).toBe(false);
    expect(p.isArmed(utc(2024, 10, 26, 23, 30))).toBe(true); // 01:30 CEST
    expect(p.isArmed(utc(2024, 10, 27, 0, 15))).toBe(true); // 02:15 CEST
    expect(p.isArmed(utc(2024, 10, 27, 1, 15))).toBe(true); // 02:15 CET
    expect(p.isArmed(utc(2024, 10, 27, 2, 29))).toBe(true); // 03:29 CET
    expect(p.isArmed(utc(2024, 10, 27, 2, 30))).toBe(false); // 03:30 CET
    expect(iso(p.nextChange(utc(2024, 10, 26, 23, 30)))).toBe("2024-10-27T02:30:00.000Z");
  });

  it("Berlin fall back: a window ending in the repeated hour ends once, at the second showing", () => {
    const p = scheduled("Europe/Berlin", { days: [6], from: "22:00", to: "02:30" });
    expect(p.isArmed(utc(2024, 10, 27, 0, 45))).toBe(true); // 02:45 CEST: past the first 02:30
    expect(p.isArmed(utc(2024, 10, 27, 1, 29))).toBe(true); // 02:29 CET
    expect(p.isArmed(utc(2024, 10, 27, 1, 30))).toBe(false); // 02:30 CET
    expect(iso(p.nextChange(utc(2024, 10, 26, 23, 0)))).toBe("2024-10-27T01:30:00.000Z");
  });

  it("Berlin fall back: a window starting in the repeated hour starts at its first showing", () => {
    const p = scheduled("Europe/Berlin", { days: [0], from: "02:30", to: "04:00" });
    expect(p.isArmed(utc(2024, 10, 27, 0, 29))).toBe(false);
    expect(p.isArmed(utc(2024, 10, 27, 0, 30))).toBe(true); // 02:30 CEST
    expect(iso(p.nextChange(utc(2024, 10, 27, 0, 30)))).toBe("2024-10-27T03:00:00.000Z"); // 04:00 CET
  });

  // America/New_York 2024: spring forward Sun 10 Mar 02:00 EST → 03:00 EDT (07:00Z);
  // fall back Sun 3 Nov 02:00 EDT → 01:00 EST (06:00Z).
  it("New York spring forward: 01:30–03:30 lasts one hour; a window from 02:30 starts at 03:00 EDT", () => {
    const p = scheduled("America/New_York", { days: [0], from: "01:30", to: "03:30" });
    expect(p.isArmed(utc(2024, 3, 10, 6, 29))).toBe(false);
    expect(p.isArmed(utc(2024, 3, 10, 6, 30))).toBe(true);
    expect(p.isArmed(utc(2024, 3, 10, 7, 29))).toBe(true);
    expect(p.isArmed(utc(2024, 3, 10, 7, 30))).toBe(false);
    const gap = scheduled("America/New_York", { days: [0], from: "02:30", to: "04:00" });
    expect(iso(gap.nextChange(utc(2024, 3, 10, 0, 0)))).toBe("2024-03-10T07:00:00.000Z");
  });

  it("New York fall back: 01:30–03:30 from the first 01:30 EDT to 03:30 EST, four hours", () => {
    const p = scheduled("America/New_York", { days: [0], from: "01:30", to: "03:30" });
    expect(p.isArmed(utc(2024, 11, 3, 5, 29))).toBe(false);
    expect(p.isArmed(utc(2024, 11, 3, 5, 30))).toBe(true); // 01:30 EDT
    expect(p.isArmed(utc(2024, 11, 3, 6, 15))).toBe(true); // 01:15 EST, the repeated hour
    expect(p.isArmed(utc(2024, 11, 3, 8, 29))).toBe(true);
    expect(p.isArmed(utc(2024, 11, 3, 8, 30))).toBe(false);
    expect(iso(p.nextChange(utc(2024, 11, 3, 5, 30)))).toBe("2024-11-03T08:30:00.000Z");
  });

  it("New York fall back: 00:30–01:30 does not end at the first 01:30", () => {
    const p = scheduled("America/New_York", { days: [0], from: "00:30", to: "01:30" });
    expect(p.isArmed(utc(2024, 11, 3, 5, 45))).toBe(true); // 01:45 EDT
    expect(p.isArmed(utc(2024, 11, 3, 6, 29))).toBe(true); // 01:29 EST
    expect(p.isArmed(utc(2024, 11, 3, 6, 30))).toBe(false); // 01:30 EST
    expect(iso(p.nextChange(utc(2024, 11, 3, 4, 30)))).toBe("2024-11-03T06:30:00.000Z");
  });

  it("nextChange agrees with isArmed at every step across both Berlin changes", () => {
    const p = scheduled(
      "Europe/Berlin",
      { days: [0, 6], from: "01:30", to: "03:30" },
      { days: [5], from: "22:00", to: "02:30" },
      { days: [1, 3], from: "02:30", to: "02:30" },
    );
    for (const [from, to] of [
      [utc(2024, 3, 28), utc(2024, 4, 3)],
      [utc(2024, 10, 24), utc(2024, 10, 30)],
    ] as const) {
      for (let t = from; t < to; t += 7 * 60_000 + 13_000) {
        const armed = p.isArmed(t);
        const next = p.nextChange(t);
        expect(next, iso(t)).toBeDefined();
        const n = next as number;
        expect(n).toBeGreaterThan(t);
        expect(n - t).toBeLessThanOrEqual(8 * DAY);
        expect(p.isArmed(n), iso(t)).toBe(!armed);
        expect(p.isArmed(n - 1), iso(t)).toBe(armed);
        for (let k = 1; k < 8; k++) {
          const s = t + Math.floor(((n - t) * k) / 8);
          expect(p.isArmed(s), `${iso(t)} @ ${iso(s)}`).toBe(armed);
        }
      }
    }
  });
});
