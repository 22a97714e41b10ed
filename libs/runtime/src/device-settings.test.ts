import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { SettingWriteError, deviceSettingsStore, deviceSettingsStores, type SettingsStore } from "./device-settings.js";

/** A bus that must not be used: a refusal has to come before any request. */
const untouched = new Proxy({}, { get: () => () => Promise.reject(new Error("the bus was used")) }) as unknown as NatsConnection;

describe("a device's settings as a hub writes them", () => {
  it("refuses a key that is not one of that device's settings, before asking anything", async () => {
    const door = deviceSettingsStore(untouched, "door");
    await expect(door.put("devices.shed.arming", "armed")).rejects.toBeInstanceOf(SettingWriteError);
    await expect(door.put("notifications", "{}")).rejects.toThrow(/"notifications" is not one of door's settings/);
    await expect(door.delete("devices.door.arming.x")).rejects.toBeInstanceOf(SettingWriteError);
  });

  it("uses the local bucket for the hub itself and elsewhere, and one store per device on a hub", () => {
    const local = {} as SettingsStore;
    const onDevice = deviceSettingsStores(untouched, local);
    expect(onDevice("door")).toBe(local);
    const onHub = deviceSettingsStores(untouched, local, { hub: "hub-1" });
    expect(onHub("hub-1")).toBe(local);
    expect(onHub("door")).not.toBe(local);
    expect(onHub("door")).toBe(onHub("door"));
  });
});
