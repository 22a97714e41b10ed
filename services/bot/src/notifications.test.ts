import { describe, expect, it } from "vitest";
import { DEFAULT_NOTIFICATIONS, isQuietAt, isSilentAt, localMinutes, parseNotificationSettings } from "./notifications.js";

/** 2026-07-01 at hh:mm UTC. */
const utc = (hh: number, mm = 0) => Date.UTC(2026, 6, 1, hh, mm);

describe("quiet hours", () => {
  it("reads the local wall clock of the bot's time zone", () => {
    expect(localMinutes(utc(21, 30), "UTC")).toBe(21 * 60 + 30);
    // Berlin is UTC+2 in July.
    expect(localMinutes(utc(21, 30), "Europe/Berlin")).toBe(23 * 60 + 30);
    expect(localMinutes(utc(22, 30), "Europe/Berlin")).toBe(30);
  });

  it("a window within the day: from inclusive, to exclusive", () => {
    const day = { from: "08:00", to: "17:30" };
    expect(isQuietAt(day, utc(7, 59), "UTC")).toBe(false);
    expect(isQuietAt(day, utc(8, 0), "UTC")).toBe(true);
    expect(isQuietAt(day, utc(17, 29), "UTC")).toBe(true);
    expect(isQuietAt(day, utc(17, 30), "UTC")).toBe(false);
  });

  it("a window whose end is before its start runs past midnight", () => {
    const night = { from: "22:00", to: "07:00" };
    expect(isQuietAt(night, utc(21, 59), "UTC")).toBe(false);
    expect(isQuietAt(night, utc(22, 0), "UTC")).toBe(true);
    expect(isQuietAt(night, utc(3, 0), "UTC")).toBe(true);
    expect(isQuietAt(night, utc(6, 59), "UTC")).toBe(true);
    expect(isQuietAt(night, utc(7, 0), "UTC")).toBe(false);
    expect(isQuietAt(night, utc(12, 0), "UTC")).toBe(false);
  });

  it("follows the time zone, not UTC", () => {
    const night = { from: "22:00", to: "07:00" };
    // 21:00 UTC is 23:00 in Berlin (summer): quiet there, not in UTC.
    expect(isQuietAt(night, utc(21, 0), "Europe/Berlin")).toBe(true);
    expect(isQuietAt(night, utc(21, 0), "UTC")).toBe(false);
  });

  it("from == to is the whole day; none is never quiet", () => {
    expect(isQuietAt({ from: "09:00", to: "09:00" }, utc(15, 0), "UTC")).toBe(true);
    expect(isQuietAt(null, utc(3, 0), "UTC")).toBe(false);
  });

  it("silent sends every alert without sound; otherwise only quiet hours do", () => {
    expect(isSilentAt(DEFAULT_NOTIFICATIONS, utc(3, 0), "UTC")).toBe(false);
    expect(isSilentAt({ ...DEFAULT_NOTIFICATIONS, silent: true }, utc(12, 0), "UTC")).toBe(true);
    expect(isSilentAt({ ...DEFAULT_NOTIFICATIONS, quietHours: { from: "22:00", to: "07:00" } }, utc(3, 0), "UTC")).toBe(true);
    expect(isSilentAt({ ...DEFAULT_NOTIFICATIONS, quietHours: { from: "22:00", to: "07:00" } }, utc(12, 0), "UTC")).toBe(false);
  });
});

describe("parseNotificationSettings", () => {
  it("fills in the defaults and refuses what is not the contract", () => {
    expect(DEFAULT_NOTIFICATIONS).toEqual({ clip: true, silent: false, quietHours: null });
    expect(parseNotificationSettings('{"clip":false}')).toEqual({ clip: false, silent: false, quietHours: null });
    expect(() => parseNotificationSettings('{"quietHours":{"from":"25:00","to":"07:00"}}')).toThrow(/HH:MM/);
    expect(() => parseNotificationSettings('{"loud":true}')).toThrow();
    expect(() => parseNotificationSettings("on")).toThrow();
  });
});
