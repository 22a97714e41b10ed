import { describe, expect, it } from "vitest";
import { ALERT_ACTIONS, parseAction } from "./alert-buttons.js";

describe("alert buttons", () => {
  it("every button's data reads back as its action, within Telegram's 64-byte limit", () => {
    for (const b of ALERT_ACTIONS) {
      expect(parseAction(b.data)).toBeDefined();
      expect(Buffer.byteLength(b.data)).toBeLessThanOrEqual(64);
    }
    expect(parseAction("snooze:3600")).toEqual({ kind: "snooze", ms: 3_600_000 });
    expect(parseAction("disarm")).toEqual({ kind: "disarm" });
  });

  it.each([undefined, "", "snooze:", "snooze:5", "snooze:99999999", "rm -rf", "disarm "])("ignores %j", (data) => {
    expect(parseAction(data)).toBeUndefined();
  });
});
