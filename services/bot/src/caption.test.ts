import { describe, expect, it } from "vitest";
import { CAPTION_LIMIT, alertCaption, formatLocalTime, helpText, pingCaption, plain, withoutPhoto } from "./caption.js";
import { COMMANDS } from "./telegram-bot.js";

const at = Date.UTC(2024, 4, 1, 12, 3, 22); // 2024-05-01 12:03:22 UTC

describe("formatLocalTime", () => {
  it("formats in the given time zone", () => {
    expect(formatLocalTime(at, "UTC")).toBe("2024-05-01 12:03:22 UTC");
    expect(formatLocalTime(at, "Asia/Tokyo")).toMatch(/^2024-05-01 21:03:22 (GMT\+9|JST)$/);
    expect(formatLocalTime(at, "America/New_York")).toBe("2024-05-01 08:03:22 EDT");
  });
});

describe("alertCaption", () => {
  it("names the device, the local time and the triggers", () => {
    const c = alertCaption({ device: "front-door", at, triggers: ["pir", "motion"], test: false }, "UTC");
    expect(c).toBe("🚨 Someone is at front-door\n2024-05-01 12:03:22 UTC\nNoticed by: motion sensor (PIR) + camera motion");
  });

  it("says Test alarm for a test event", () => {
    const c = alertCaption({ device: "garage", at, triggers: ["test"], test: true }, "UTC");
    expect(c.split("\n")[0]).toBe("🧪 Test alarm — garage");
    expect(c).not.toContain("Someone");
  });

  it("says how late an alert goes out a minute or more after its event, and nothing when it is on time", () => {
    const e = { device: "door", at, triggers: ["pir"] as const, test: false };
    expect(alertCaption({ ...e, triggers: [...e.triggers] }, "UTC", at + 59_000)).not.toContain("late");
    expect(alertCaption({ ...e, triggers: [...e.triggers] }, "UTC", at + 12 * 60_000 + 5_000).split("\n").at(-1)).toBe("⏱ Sent 12 min late: it could not go out then.");
    expect(alertCaption({ ...e, triggers: [...e.triggers] }, "UTC", at + 125 * 60_000)).toContain("Sent 2 h 5 min late");
    expect(alertCaption({ ...e, triggers: [...e.triggers] }, "UTC", at + 3 * 86_400_000)).toContain("Sent 3 days late");
  });

  it("stays within Telegram's caption limit", () => {
    const c = alertCaption({ device: "d".repeat(64), at, triggers: Array(400).fill("motion"), test: false }, "UTC");
    expect(c.length).toBeLessThanOrEqual(CAPTION_LIMIT);
  });
});

describe("pingCaption and withoutPhoto", () => {
  it("answers ping with device and time", () => {
    expect(pingCaption("front-door", at, "UTC")).toBe("pong — front-door 2024-05-01 12:03:22 UTC");
  });

  it("keeps an untrusted reason on one plain line", () => {
    const t = withoutPhoto("caption", "no picture\nyet\u0000<b>x</b>");
    expect(t).toBe("caption\n(no photo: no picture yet <b>x</b>)");
    expect(plain("a".repeat(500)).length).toBe(200);
  });
});

describe("helpText", () => {
  it("names every command of the menu Telegram shows", () => {
    const help = helpText("cam");
    for (const c of COMMANDS.filter((x) => x.command !== "help")) expect(help).toContain(`/${c.command}`);
  });
});
