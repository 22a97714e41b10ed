import { describe, expect, it } from "vitest";
import { alertButtons, deviceButtons, parseAction } from "./alert-buttons.js";

describe("alert buttons", () => {
  it("an alert has Live (when the web address is known), Clip, Snooze 1 h and Disarm, each reading back as its action within 64 bytes", () => {
    const rows = alertButtons("front-door", "https://cam.example.org/#front-door");
    expect(rows.flat().map((b) => b.text)).toEqual(["📺 Live", "🎬 Clip", "🔕 Snooze 1 h", "⏸ Disarm"]);
    expect(rows[0]?.[0]).toEqual({ text: "📺 Live", url: "https://cam.example.org/#front-door" });
    for (const b of rows.flat()) {
      if (!("callback_data" in b)) continue;
      expect(parseAction(b.callback_data)).toBeDefined();
      expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
    }
    expect(alertButtons("front-door").flat().map((b) => b.text)).toEqual(["🎬 Clip", "🔕 Snooze 1 h", "⏸ Disarm"]);
    expect(parseAction("snooze:3600")).toEqual({ kind: "snooze", ms: 3_600_000 });
    expect(parseAction("disarm")).toEqual({ kind: "disarm" });
    expect(parseAction("clip:front-door")).toEqual({ kind: "clip", device: "front-door" });
  });

  it("offers one button per device, dropping a device whose id does not fit", () => {
    const long = "d".repeat(64);
    const rows = deviceButtons("snapshot", ["garden", long]);
    expect(rows).toEqual([[{ text: "📷 garden", callback_data: "snap:garden" }]]);
    expect(parseAction("snap:garden")).toEqual({ kind: "snapshot", device: "garden" });
  });

  it.each([undefined, "", "snooze:", "snooze:5", "snooze:99999999", "rm -rf", "disarm ", "snap:", "snap:a.b", "clip:../x", "snap:a b"])("ignores %j", (data) => {
    expect(parseAction(data)).toBeUndefined();
  });
});
