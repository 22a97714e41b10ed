import { describe, expect, it } from "vitest";
import type { Heartbeat, ServiceName } from "@picket/contracts";
import { DeviceDirectory } from "./device-directory.js";

const hb = (device: string, service: ServiceName, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  device,
  service,
  version: "0.1.0",
  at: 0,
  uptimeS: 10,
  rssBytes: 50_000_000,
  cpuPct: 4,
  vitals: {},
  ...extra,
});

describe("DeviceDirectory", () => {
  it("lists its own device first, offline, before any heartbeat", () => {
    const d = new DeviceDirectory("pi", 10_000);
    expect(d.list(1000)).toEqual([{ id: "pi", online: false, lastSeenAgoMs: null, services: {} }]);
    expect(d.has("pi")).toBe(true);
    expect(d.has("garage")).toBe(false);
  });

  it("keeps its own device first and sorts the others by name", () => {
    const d = new DeviceDirectory("pi", 10_000);
    for (const id of ["zeta", "alpha", "mid"]) d.record(hb(id, "camera"), 0);
    expect(d.list(0).map((v) => v.id)).toEqual(["pi", "alpha", "mid", "zeta"]);
  });

  it("is online while a heartbeat is younger than the limit, offline from then on", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "camera"), 1000);
    expect(d.list(1000)[0]).toMatchObject({ online: true, lastSeenAgoMs: 0 });
    expect(d.list(10_999)[0]).toMatchObject({ online: true, lastSeenAgoMs: 9999 });
    expect(d.list(11_000)[0]).toMatchObject({ online: false, lastSeenAgoMs: 10_000 });
  });

  it("counts the freshest service for the device and shows each service's age and figures", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "camera", { vitals: { fps: 25 }, version: "1.2.3" }), 1000);
    d.record(hb("pi", "pir"), 8000);
    const [pi] = d.list(15_000);
    expect(pi).toMatchObject({ online: true, lastSeenAgoMs: 7000 });
    expect(pi?.services.camera).toEqual({ version: "1.2.3", ageMs: 14_000, uptimeS: 10, rssBytes: 50_000_000, cpuPct: 4, vitals: { fps: 25 } });
    expect(pi?.services.pir?.ageMs).toBe(7000);
  });

  it("keeps only the newest heartbeat of each service", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "camera", { uptimeS: 1 }), 1000);
    d.record(hb("pi", "camera", { uptimeS: 5 }), 5000);
    const [pi] = d.list(5000);
    expect(Object.keys(pi?.services ?? {})).toEqual(["camera"]);
    expect(pi?.services.camera).toMatchObject({ uptimeS: 5, ageMs: 0 });
  });

  it("tells other devices' state apart", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("garage", "camera"), 0);
    d.record(hb("porch", "camera"), 20_000);
    const byId = Object.fromEntries(d.list(25_000).map((v) => [v.id, v.online]));
    expect(byId).toEqual({ pi: false, garage: false, porch: true });
  });

  it("stops taking new devices at 1000, but keeps updating known ones", () => {
    const d = new DeviceDirectory("pi", 10_000);
    for (let i = 0; i < 1500; i++) d.record(hb(`dev-${String(i).padStart(4, "0")}`, "camera"), 0);
    expect(d.list(0)).toHaveLength(1001);
    expect(d.has("dev-0999")).toBe(true);
    expect(d.has("dev-1000")).toBe(false);
    d.record(hb("dev-0000", "pir"), 50_000);
    expect(d.list(50_000).find((v) => v.id === "dev-0000")).toMatchObject({ online: true });
  });
});
