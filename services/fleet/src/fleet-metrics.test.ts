import type { DeviceView } from "@picket/contracts";
import { Registry } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import type { DeviceRecord } from "./detector.js";
import { fleetMetrics } from "./fleet-metrics.js";

const view = (id: string): DeviceView => ({
  id,
  state: "online",
  problem: null,
  lastSeenAgoMs: 500,
  uptimeS: 60,
  temperatureC: 48.5,
  camera: { fps: 25, kbps: 1800, frameAgeMs: 40 },
  versions: {},
  services: { stream: { ageMs: 500, uptimeS: 60, cpuPct: 2, rssBytes: 1024, vitals: { viewers: 2 } } },
});

/** The hub's registry, as createMetrics makes it: its own device id as the default `device` label. */
function hubRegistry(devices: Record<string, DeviceRecord>) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "fleet", device: "hub" });
  const states = new Map(Object.entries(devices));
  const figures = fleetMetrics(registry, { states: () => states, view: (d) => (states.has(d) ? view(d) : undefined) });
  return { registry, figures };
}

const lines = async (registry: Registry, name: string) => (await registry.metrics()).split("\n").filter((l) => l.startsWith(`${name}{`));

describe("fleetMetrics", () => {
  it("labels each figure with the watched device, not the hub's own default label", async () => {
    const { registry } = hubRegistry({ door: { state: "online", since: 0 }, shed: { state: "offline", since: 0 } });
    expect(await lines(registry, "picket_fleet_device_up")).toEqual(['picket_fleet_device_up{device="door",service="fleet"} 1', 'picket_fleet_device_up{device="shed",service="fleet"} 0']);
    expect(await lines(registry, "picket_fleet_device_viewers")).toContain('picket_fleet_device_viewers{device="door",service="fleet"} 2');
    expect(await lines(registry, "picket_fleet_service_cpu_percent")).toContain('picket_fleet_service_cpu_percent{device="door",service="stream"} 2');
    // Fleet-wide figures keep the hub's label.
    expect(await lines(registry, "picket_fleet_devices")).toContain('picket_fleet_devices{state="offline",service="fleet",device="hub"} 1');
  });

  it("has a zero series for every state before any transition, so the first one is an increase", async () => {
    const { registry, figures } = hubRegistry({});
    const transitions = async () => (await lines(registry, "picket_fleet_transitions_total")).map((l) => l.replace(/,service="fleet",device="hub"/, ""));
    expect(await transitions()).toEqual(['picket_fleet_transitions_total{state="online"} 0', 'picket_fleet_transitions_total{state="degraded"} 0', 'picket_fleet_transitions_total{state="offline"} 0']);
    figures.transitions.inc({ state: "offline" });
    expect(await transitions()).toContain('picket_fleet_transitions_total{state="offline"} 1');
  });
});
