import { describe, expect, it } from "vitest";
import type { Heartbeat, ServiceName } from "@picket/contracts";
import { FleetDetector } from "./detector.js";

const hb = (device: string, service: ServiceName, at: number, vitals: Record<string, number> = {}): Heartbeat => ({ device, service, version: "0.1.0", at, uptimeS: 10, rssBytes: 1, cpuPct: 1, vitals });
const camera = (device: string, at: number, frameAgeMs = 40) => hb(device, "camera", at, { capturing: 1, fps: 25, bitrateKbps: 1800, lastFrameAgeMs: frameAgeMs });
const T0 = 1_700_000_000_000;
const detector = () => new FleetDetector({ offlineAfterMs: 6_000, degradedAfterMs: 4_000, maxDevices: 100, hubDevice: "hub" });

/** A healthy device beating every 2 s from `from` to `to` (hub clock = device clock here). */
function beat(d: FleetDetector, device: string, from: number, to: number, frameAgeMs = 40) {
  for (let t = from; t <= to; t += 2_000) {
    d.record(camera(device, T0 + t, frameAgeMs), t);
    d.record(hb(device, "pir", T0 + t), t);
  }
}

describe("FleetDetector", () => {
  it("announces a new device once, and nothing while it keeps beating", () => {
    const d = detector();
    beat(d, "door", 0, 0);
    expect(d.check(100, T0 + 100)).toEqual([{ device: "door", state: "online", previous: "new", reason: "heard for the first time", at: T0 + 100, lastHeartbeatAt: T0, basisAt: T0 }]);
    beat(d, "door", 2_000, 60_000);
    expect(d.check(60_100, T0 + 60_100)).toEqual([]);
  });

  it("declares a silent device offline after the limit, not before, and back online with how long it was down", () => {
    const d = detector();
    beat(d, "door", 0, 10_000);
    d.check(10_000, T0 + 10_000);
    expect(d.check(15_999, T0 + 15_999)).toEqual([]);
    const [off] = d.check(16_000, T0 + 16_000);
    expect(off).toMatchObject({ device: "door", state: "offline", previous: "online", lastHeartbeatAt: T0 + 10_000, basisAt: T0 + 10_000 });
    expect(off?.reason).toBe("not heard from for 6 s");
    expect(d.check(30_000, T0 + 30_000)).toEqual([]);
    beat(d, "door", 40_000, 40_000);
    expect(d.check(40_100, T0 + 40_100)).toEqual([{ device: "door", state: "online", previous: "offline", reason: "heard again", at: T0 + 40_100, lastHeartbeatAt: T0 + 40_000, downMs: 24_100, basisAt: T0 + 40_000 }]);
  });

  it("says nothing more of a device it was told to forget (removed from the hub), until it is heard again", () => {
    const d = detector();
    beat(d, "door", 0, 10_000);
    beat(d, "shed", 0, 10_000);
    d.check(10_000, T0 + 10_000);
    d.forget("door");
    expect([...d.states().keys()]).toEqual(["shed"]);
    expect(d.heard()).toEqual(["shed"]);
    // Silent long after: no offline news of it, only of the other.
    expect(d.check(30_000, T0 + 30_000).map((t) => `${t.device} ${t.state}`)).toEqual(["shed offline"]);
  });

  it("tells degraded only after it lasts, and well again at once", () => {
    const d = detector();
    beat(d, "door", 0, 4_000);
    d.check(4_000, T0 + 4_000);
    // A frozen picture for one beat is not news.
    d.record(camera("door", T0 + 6_000, 9_000), 6_000);
    for (let t = 6_000; t <= 18_000; t += 2_000) d.record(hb("door", "pir", T0 + t), t);
    expect(d.check(6_000, T0 + 6_000)).toEqual([]);
    d.record(camera("door", T0 + 8_000, 40), 8_000);
    expect(d.check(8_000, T0 + 8_000)).toEqual([]);
    // Frozen for good: degraded once it has lasted 4 s.
    for (let t = 10_000; t <= 16_000; t += 2_000) d.record(camera("door", T0 + t, t - 9_000), t);
    expect(d.check(10_000, T0 + 10_000)).toEqual([]);
    expect(d.check(13_999, T0 + 13_999)).toEqual([]);
    const [degraded] = d.check(14_000, T0 + 14_000);
    expect(degraded).toMatchObject({ state: "degraded", previous: "online" });
    expect(degraded?.reason).toMatch(/camera's newest frame is \d+ s old/);
    expect(d.check(16_000, T0 + 16_000)).toEqual([]);
    d.record(camera("door", T0 + 18_000, 40), 18_000);
    expect(d.check(18_000, T0 + 18_000)).toMatchObject([{ state: "online", previous: "degraded", reason: "well again" }]);
  });

  it("waits for a new device's camera to start before it tells anything, and tells degraded if it never does", () => {
    const d = detector();
    d.record(camera("door", T0, -1), 0);
    expect(d.check(0, T0)).toEqual([]);
    d.record(camera("door", T0 + 1_000, 40), 1_000);
    expect(d.check(1_000, T0 + 1_000)).toMatchObject([{ device: "door", state: "online", previous: "new" }]);
    d.record(camera("shed", T0 + 1_000, -1), 1_000);
    expect(d.check(1_000, T0 + 1_000)).toEqual([]);
    d.record(camera("shed", T0 + 3_000, -1), 3_000);
    expect(d.check(4_999, T0 + 4_999)).toEqual([]);
    expect(d.check(5_000, T0 + 5_000)).toMatchObject([{ device: "shed", state: "degraded", previous: "new", reason: "the camera is on but delivers no frames" }]);
  });

  it("calls a device whose camera went silent degraded, not offline", () => {
    const d = detector();
    beat(d, "door", 0, 0);
    d.check(0, T0);
    for (let t = 2_000; t <= 20_000; t += 2_000) d.record(hb("door", "pir", T0 + t), t);
    const all = [12_000, 16_000, 20_000].flatMap((t) => d.check(t, T0 + t));
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ state: "degraded", reason: expect.stringMatching(/camera service has been silent/) });
  });

  it("declares no device offline while the hub itself was deaf (start, reconnect, stall), only after every device had its chance", () => {
    const d = detector();
    beat(d, "door", 0, 0);
    beat(d, "shed", 0, 0);
    d.check(0, T0);
    // The hub's bus went away for 20 s; heartbeats resume at 21 s for the door only.
    d.holdOffline(20_000);
    expect(d.check(20_500, T0 + 20_500)).toEqual([]);
    beat(d, "door", 21_000, 26_000);
    expect(d.check(25_999, T0 + 25_999)).toEqual([]);
    expect(d.check(26_000, T0 + 26_000)).toMatchObject([{ device: "shed", state: "offline" }]);
  });

  it("goes on from a restarted hub's records: no repeated news, and what happened meanwhile is told", () => {
    const d = detector();
    d.restore("door", { state: "online", since: T0 - 60_000, lastHeartbeatAt: T0 - 1_000 });
    d.restore("shed", { state: "online", since: T0 - 60_000, lastHeartbeatAt: T0 - 1_000 });
    d.restore("gate", { state: "offline", since: T0 - 60_000, lastHeartbeatAt: T0 - 70_000 });
    d.holdOffline(0);
    beat(d, "door", 1_000, 7_000);
    beat(d, "gate", 1_000, 1_000);
    const out = d.check(1_000, T0 + 1_000);
    expect(out).toMatchObject([{ device: "gate", state: "online", previous: "offline", downMs: 61_000 }]);
    expect(d.check(5_999, T0 + 5_999)).toEqual([]);
    expect(d.check(6_000, T0 + 6_000)).toMatchObject([{ device: "shed", state: "offline", previous: "online", reason: "not heard from since the hub started", lastHeartbeatAt: T0 - 1_000 }]);
  });

  it("rests each conclusion on the same heartbeat for two detectors that check at different moments", () => {
    // Camera and pir beat half a second apart, through a silence and back; two detectors hear
    // the same beats as they come, and check on their own rhythms.
    const beats: Heartbeat[] = [];
    for (let t = 0; t <= 40_000; t += 2_000) if (t <= 10_000 || t >= 30_000) beats.push(camera("door", T0 + t), hb("door", "pir", T0 + t + 500));
    const run = (phase: number, every: number) => {
      const d = detector();
      const out: string[] = [];
      let next = 0;
      for (let now = phase; now <= 42_000; now += every) {
        while (next < beats.length && (beats[next] as Heartbeat).at - T0 <= now) {
          const b = beats[next++] as Heartbeat;
          d.record(b, b.at - T0);
        }
        out.push(...d.check(now, T0 + now).map((x) => `${x.previous}>${x.state}@${x.basisAt}`));
      }
      return out;
    };
    const a = run(0, 500);
    expect(a).toEqual([`new>online@${T0}`, `online>offline@${T0 + 10_500}`, `offline>online@${T0 + 30_000}`]);
    expect(run(650, 1_000)).toEqual(a);
  });

  it("does not watch the hub itself, and follows no more devices than its bound", () => {
    const d = new FleetDetector({ offlineAfterMs: 6_000, degradedAfterMs: 4_000, maxDevices: 2, hubDevice: "hub" });
    for (const device of ["hub", "a", "b", "c"]) d.record(camera(device, T0), 0);
    expect(d.check(0, T0).map((t) => t.device)).toEqual(["a", "b"]);
  });
});
