import { describe, expect, it } from "vitest";
import type { Heartbeat, ServiceName } from "@picket/contracts";
import { DeviceDirectory, SERVICE_GONE_MS, cameraProblem, describeAge } from "./device-directory.js";

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
/** A camera heartbeat whose picture is fine: capturing, 25 fps, a frame 40 ms old. */
const goodCamera = (device: string, extra: Record<string, number> = {}) => hb(device, "camera", { vitals: { capturing: 1, fps: 25, bitrateKbps: 1800, lastFrameAgeMs: 40, ...extra } });

describe("DeviceDirectory", () => {
  it("lists its own device first, offline, before any heartbeat", () => {
    const d = new DeviceDirectory("pi", 10_000);
    expect(d.list(1000)).toEqual([
      { id: "pi", state: "offline", problem: "not heard from yet", lastSeenAgoMs: null, uptimeS: null, temperatureC: null, camera: null, versions: {}, services: {} },
    ]);
    expect(d.has("pi")).toBe(true);
    expect(d.has("garage")).toBe(false);
    expect(d.get("garage", 0)).toBeUndefined();
  });

  it("keeps its own device first and sorts the others by name", () => {
    const d = new DeviceDirectory("pi", 10_000);
    for (const id of ["zeta", "alpha", "mid"]) d.record(hb(id, "camera"), 0);
    expect(d.list(0).map((v) => v.id)).toEqual(["pi", "alpha", "mid", "zeta"]);
  });

  it("is online while a heartbeat is younger than the limit, offline from then on", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(goodCamera("pi"), 1000);
    expect(d.list(1000)[0]).toMatchObject({ state: "online", problem: null, lastSeenAgoMs: 0 });
    expect(d.list(3_999)[0]).toMatchObject({ state: "online", lastSeenAgoMs: 2999 });
    expect(d.list(11_000)[0]).toMatchObject({ state: "offline", problem: "not heard from for 10 s", lastSeenAgoMs: 10_000, uptimeS: null, camera: null });
    expect(d.list(1000 + 600_000)[0]?.problem).toBe("not heard from for 10 min");
  });

  it("shows each service's figures, the versions, the camera's picture and the longest uptime", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "camera", { version: "1.2.3", uptimeS: 50, vitals: { capturing: 1, fps: 24.8, bitrateKbps: 1900, lastFrameAgeMs: 30 } }), 1000);
    d.record(hb("pi", "pir", { uptimeS: 7_200, vitals: { armed: 1 } }), 1500);
    const pi = d.get("pi", 1500);
    expect(pi).toMatchObject({ state: "online", problem: null, lastSeenAgoMs: 0, uptimeS: 7_200, versions: { camera: "1.2.3", pir: "0.1.0" } });
    expect(pi?.services.camera).toEqual({ ageMs: 500, uptimeS: 50, rssBytes: 50_000_000, cpuPct: 4, vitals: { capturing: 1, fps: 24.8, bitrateKbps: 1900, lastFrameAgeMs: 30 } });
    expect(pi?.camera).toEqual({ fps: 24.8, kbps: 1900, frameAgeMs: 30 });
  });

  it("reports a temperature only when a live service carries one", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(goodCamera("pi"), 0);
    expect(d.get("pi", 0)?.temperatureC).toBeNull();
    d.record(hb("pi", "pir", { vitals: { socTempC: 51.5 } }), 0);
    expect(d.get("pi", 0)?.temperatureC).toBe(51.5);
  });

  it("is degraded when the device lives but only its camera's heartbeats stopped", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(goodCamera("pi"), 0);
    d.record(hb("pi", "pir"), 0);
    expect(d.get("pi", 1000)?.state).toBe("online");
    d.record(hb("pi", "pir"), 12_000);
    const pi = d.get("pi", 12_000);
    expect(pi).toMatchObject({ state: "degraded", problem: "the camera service has been silent for 12 s", camera: null });
    expect(pi?.versions.camera).toBe("0.1.0");
  });

  it("is degraded when no camera was ever heard from there", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "web"), 0);
    expect(d.get("pi", 0)).toMatchObject({ state: "degraded", problem: "no camera service heard from on this device" });
  });

  it("is degraded while the camera captures but its frames stop or never came, and says which", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(goodCamera("pi", { lastFrameAgeMs: 8_000 }), 0);
    expect(d.get("pi", 1000)).toMatchObject({ state: "degraded", problem: "the camera's newest frame is 8 s old", camera: { frameAgeMs: 8_000 } });
    d.record(goodCamera("pi", { lastFrameAgeMs: -1, fps: 0 }), 2000);
    expect(d.get("pi", 2000)).toMatchObject({ state: "degraded", problem: "the camera is on but delivers no frames", camera: { fps: 0, frameAgeMs: null } });
    d.record(goodCamera("pi"), 3000);
    expect(d.get("pi", 3000)).toMatchObject({ state: "online", problem: null });
  });

  it("a camera on demand that is off is not a problem", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "camera", { vitals: { capturing: 0, onDemand: 1, fps: 0, lastFrameAgeMs: -1 } }), 0);
    expect(d.get("pi", 0)).toMatchObject({ state: "online", problem: null, camera: { fps: 0, frameAgeMs: null } });
  });

  it("names another service that went silent, after the camera's own trouble", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(hb("pi", "pir"), 0);
    d.record(goodCamera("pi", { lastFrameAgeMs: 9_000 }), 30_000);
    expect(d.get("pi", 30_000)).toMatchObject({ state: "degraded", problem: "the camera's newest frame is 9 s old; the pir service has been silent for 30 s" });
  });

  it("takes the bot silent for SERVICE_GONE_MS while the rest beat as removed, not unwell; never the camera or the PIR", () => {
    const d = new DeviceDirectory(undefined, 6_000);
    d.record(hb("door", "bot"), 0);
    const beat = (at: number) => {
      d.record(goodCamera("door"), at);
      d.record(hb("door", "pir"), at);
    };
    beat(SERVICE_GONE_MS - 1_000);
    expect(d.get("door", SERVICE_GONE_MS - 1_000)).toMatchObject({ state: "degraded", problem: "the bot service has been silent for 10 min" });
    beat(SERVICE_GONE_MS);
    expect(d.get("door", SERVICE_GONE_MS)).toMatchObject({ state: "online", problem: null });
    // Still listed, with how long ago it was heard.
    expect(d.get("door", SERVICE_GONE_MS)?.services.bot?.ageMs).toBe(SERVICE_GONE_MS);
    // The camera silent as long is still news.
    const c = new DeviceDirectory(undefined, 6_000);
    c.record(goodCamera("gate"), 0);
    c.record(hb("gate", "pir"), 2 * SERVICE_GONE_MS);
    expect(c.get("gate", 2 * SERVICE_GONE_MS)).toMatchObject({ state: "degraded", problem: "the camera service has been silent for 20 min" });
    // Nor the PIR, which raises the alarms.
    const p = new DeviceDirectory(undefined, 6_000);
    p.record(hb("shed", "pir"), 0);
    p.record(goodCamera("shed"), 2 * SERVICE_GONE_MS);
    expect(p.get("shed", 2 * SERVICE_GONE_MS)).toMatchObject({ state: "degraded", problem: "the pir service has been silent for 20 min" });
  });

  it("tells other devices' state apart", () => {
    const d = new DeviceDirectory("pi", 10_000);
    d.record(goodCamera("garage"), 0);
    d.record(goodCamera("porch"), 20_000);
    const byId = Object.fromEntries(d.list(25_000).map((v) => [v.id, v.state]));
    expect(byId).toEqual({ pi: "offline", garage: "offline", porch: "online" });
  });

  it("stops taking new devices at 1000, but keeps updating known ones", () => {
    const d = new DeviceDirectory("pi", 10_000);
    for (let i = 0; i < 1500; i++) d.record(hb(`dev-${String(i).padStart(4, "0")}`, "camera"), 0);
    expect(d.list(0)).toHaveLength(1001);
    expect(d.has("dev-0999")).toBe(true);
    expect(d.has("dev-1000")).toBe(false);
    d.record(goodCamera("dev-0000"), 50_000);
    expect(d.list(50_000).find((v) => v.id === "dev-0000")).toMatchObject({ state: "online" });
  });
});

describe("cameraProblem", () => {
  it("is quiet while frames are fresh, and says when they stop or never came", () => {
    expect(cameraProblem({ capturing: 1, fps: 15, lastFrameAgeMs: 100 })).toBeUndefined();
    expect(cameraProblem({ capturing: 1, fps: 15, lastFrameAgeMs: 5_000 })).toBeUndefined();
    expect(cameraProblem({ capturing: 1, fps: 15, lastFrameAgeMs: 5_001 })).toBe("the camera's newest frame is 5 s old");
    expect(cameraProblem({ capturing: 1, fps: 15, lastFrameAgeMs: 2_500 }, 2_000)).toBe("the camera's newest frame is 3 s old");
    expect(cameraProblem({ capturing: 1, fps: 0, lastFrameAgeMs: 100 })).toBe("the camera reports 0 frames per second");
    expect(cameraProblem({ capturing: 0, fps: 0, lastFrameAgeMs: -1 })).toBeUndefined();
    expect(cameraProblem({})).toBe("the camera is on but delivers no frames");
  });

  it("describes ages the way people say them", () => {
    expect([describeAge(1_400), describeAge(119_000), describeAge(600_000), describeAge(3 * 3_600_000), describeAge(3 * 86_400_000)]).toEqual(["1 s", "119 s", "10 min", "3 h", "3 d"]);
  });
});
