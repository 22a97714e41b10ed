import { describe, expect, it } from "vitest";
import { describeDuration, parseDuration } from "./household.js";

describe("parseDuration", () => {
  it.each([
    ["30m", 30 * 60_000],
    ["1h", 3_600_000],
    ["2h30m", 2.5 * 3_600_000],
    ["2h 30m", 2.5 * 3_600_000],
    ["90", 90 * 60_000],
    ["1d", 86_400_000],
    ["45min", 45 * 60_000],
    [" 1H ", 3_600_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "soon", "1x", "-5", "h", "0m"])("refuses %j with a hint", (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration|out of range/);
  });

  it("refuses more than a week", () => {
    expect(() => parseDuration("8d")).toThrow(/out of range: from 1 minute to 7 days/);
  });
});

describe("describeDuration", () => {
  it("says it the way people do", () => {
    expect(describeDuration(3_600_000)).toBe("1 h");
    expect(describeDuration(5_400_000)).toBe("1 h 30 min");
    expect(describeDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe("2 d 3 h");
    expect(describeDuration(45 * 60_000)).toBe("45 min");
  });
});
