import { describe, expect, it } from "vitest";
import { DEVICE_SETTING_NAMES, Heartbeat, PirInject, PresenceEvent, SettingWrite, parseDeviceSetting } from "./payloads.js";

const event: PresenceEvent = { id: "ev-lq2x3y4z-abcdefgh", kind: "presence", state: "started", device: "pi", at: 1_700_000_000_000, triggers: ["pir"], test: false };

describe("PresenceEvent", () => {
  it("accepts a well-formed event", () => {
    expect(PresenceEvent.safeParse(event).success).toBe(true);
    expect(PresenceEvent.safeParse({ ...event, triggers: ["test"], test: true, state: "ended" }).success).toBe(true);
  });

  it.each([
    ["a short id", { id: "ev-1" }],
    ["an id with a dot", { id: "ev-1234.5678" }],
    ["a device that is not a subject token", { device: "pi.local" }],
    ["no triggers", { triggers: [] }],
    ["an unknown trigger", { triggers: ["smoke"] }],
    ["a negative time", { at: -1 }],
    ["a fractional time", { at: 1.5 }],
    ["another kind", { kind: "motion" }],
    ["an unknown key", { extra: 1 }],
  ])("rejects %s", (_what, patch) => {
    expect(PresenceEvent.safeParse({ ...event, ...patch }).success).toBe(false);
  });
});

describe("PirInject", () => {
  it("accepts a level or a pulse", () => {
    expect(PirInject.parse({ level: 1 })).toEqual({ level: 1 });
    expect(PirInject.parse({ level: 0 })).toEqual({ level: 0 });
    expect(PirInject.parse({ pulseMs: 500 })).toEqual({ pulseMs: 500 });
  });

  it.each([{ level: 2 }, { level: "1" }, { pulseMs: 0 }, { pulseMs: 60_001 }, { pulseMs: 1.5 }, { level: 1, pulseMs: 100 }, {}])("rejects %j", (bad) => {
    expect(PirInject.safeParse(bad).success).toBe(false);
  });
});

describe("Heartbeat", () => {
  const hb: Heartbeat = { device: "pi", service: "camera", version: "0.1.0", at: 1, uptimeS: 12.5, rssBytes: 1024, cpuPct: 3.2, vitals: { fps: 25 } };

  it("accepts a well-formed heartbeat", () => {
    expect(Heartbeat.safeParse(hb).success).toBe(true);
  });

  it.each([
    ["an unknown service", { service: "db" }],
    ["a fractional rss", { rssBytes: 1.5 }],
    ["a negative uptime", { uptimeS: -1 }],
    ["a vital that is not a number", { vitals: { fps: "25" } }],
    ["a long version", { version: "v".repeat(33) }],
    ["a bad device", { device: "" }],
  ])("rejects %s", (_what, patch) => {
    expect(Heartbeat.safeParse({ ...hb, ...patch }).success).toBe(false);
  });
});

describe("a hub's write of a device's setting", () => {
  it("takes each setting's stored text only when that setting's contract does", () => {
    expect(parseDeviceSetting("arming", "armed")).toEqual({ mode: "armed" });
    expect(parseDeviceSetting("arming", '{"mode":"scheduled","schedule":[{"days":[1],"from":"22:00","to":"06:00"}]}')).toMatchObject({ mode: "scheduled" });
    expect(() => parseDeviceSetting("arming", "sometimes")).toThrow();
    expect(parseDeviceSetting("detection", '{"mode":"pir"}')).toEqual({ mode: "pir" });
    expect(() => parseDeviceSetting("detection", '{"mode":"radar"}')).toThrow();
    expect(() => parseDeviceSetting("motion", "{not json")).toThrow();
    expect(() => parseDeviceSetting("snooze", '{"until":-5}')).toThrow();
  });

  it("names only the device's own settings, and a string or null as the value", () => {
    expect(SettingWrite.safeParse({ setting: "arming", value: "armed" }).success).toBe(true);
    expect(SettingWrite.safeParse({ setting: "snooze", value: null, by: "the hub's bot" }).success).toBe(true);
    expect(SettingWrite.safeParse({ setting: "notifications", value: "{}" }).success).toBe(false);
    expect(SettingWrite.safeParse({ setting: "arming", value: { mode: "armed" } }).success).toBe(false);
    expect(DEVICE_SETTING_NAMES).toEqual(["arming", "motion", "snooze", "detection", "presets"]);
  });
});
