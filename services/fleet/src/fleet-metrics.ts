import { Counter, Gauge, Histogram, type Registry } from "@picket/runtime";
import type { DeviceState, DeviceView } from "@picket/contracts";
import type { DeviceRecord } from "./detector.js";

const STATES: DeviceState[] = ["online", "degraded", "offline"];

/** What the exporter reads at each scrape: every followed device's state and latest view. */
export interface FleetSnapshot {
  states(): ReadonlyMap<string, DeviceRecord>;
  view(device: string): DeviceView | undefined;
}

/**
 * The hub's Prometheus figures of every device, from heartbeats: computed when Prometheus
 * scrapes, so a thousand devices beating cost nothing here between scrapes. Label `device`
 * is the watched device (the registry's own default `device` label, the hub's, gives way).
 */
export function fleetMetrics(registry: Registry, fleet: FleetSnapshot) {
  const registers = [registry];
  const perDevice = (name: string, help: string, value: (v: DeviceView) => number | null | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ["device"] as const,
      registers,
      collect() {
        this.reset();
        for (const device of fleet.states().keys()) {
          const v = fleet.view(device);
          const x = v === undefined ? undefined : value(v);
          if (x !== undefined && x !== null) this.set({ device }, x);
        }
      },
    });
  const perService = (name: string, help: string, value: (s: NonNullable<DeviceView["services"][keyof DeviceView["services"]]>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["device", "service"] as const,
      registers,
      collect() {
        this.reset();
        for (const device of fleet.states().keys()) {
          for (const [service, s] of Object.entries(fleet.view(device)?.services ?? {})) if (s !== undefined) this.set({ device, service }, value(s));
        }
      },
    });

  new Gauge({
    name: "picket_fleet_device_up",
    help: "1 while the device is heard from (online or degraded), 0 when offline",
    labelNames: ["device"] as const,
    registers,
    collect() {
      this.reset();
      for (const [device, r] of fleet.states()) this.set({ device }, r.state === "offline" ? 0 : 1);
    },
  });
  new Gauge({
    name: "picket_fleet_device_state",
    help: "The detector's verdict on each device: 1 for its current state",
    labelNames: ["device", "state"] as const,
    registers,
    collect() {
      this.reset();
      for (const [device, r] of fleet.states()) for (const state of STATES) this.set({ device, state }, r.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: "picket_fleet_devices",
    help: "Devices followed, by state",
    labelNames: ["state"] as const,
    registers,
    collect() {
      const counts = new Map<DeviceState, number>(STATES.map((s) => [s, 0]));
      for (const r of fleet.states().values()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  perDevice("picket_fleet_device_last_seen_seconds", "Seconds since any service of the device was heard", (v) => (v.lastSeenAgoMs === null ? null : v.lastSeenAgoMs / 1000));
  perDevice("picket_fleet_device_uptime_seconds", "How long Picket has run on the device (its longest-running live service)", (v) => v.uptimeS);
  perDevice("picket_fleet_device_temperature_celsius", "The device's CPU temperature, where it can be read", (v) => v.temperatureC);
  perDevice("picket_fleet_device_camera_fps", "Frames per second of the device's main picture", (v) => v.camera?.fps);
  perDevice("picket_fleet_device_camera_bitrate_kbps", "Bitrate of the device's main picture, kbit/s", (v) => v.camera?.kbps);
  perDevice("picket_fleet_device_camera_frame_age_seconds", "Age of the camera's newest frame when it last beat", (v) => (v.camera?.frameAgeMs === null || v.camera === null ? null : v.camera.frameAgeMs / 1000));
  perDevice("picket_fleet_device_viewers", "Live viewers of the device's stream service", (v) => v.services.stream?.vitals.viewers);
  perService("picket_fleet_service_cpu_percent", "CPU of each service of each device, % of one core", (s) => s.cpuPct);
  perService("picket_fleet_service_rss_bytes", "Resident memory of each service of each device", (s) => s.rssBytes);
  perService("picket_fleet_service_heartbeat_age_seconds", "Seconds since each service of each device was heard", (s) => s.ageMs / 1000);

  const transitions = new Counter({ name: "picket_fleet_transitions_total", help: "Device state changes concluded, by new state", labelNames: ["state"] as const, registers });
  // Each state's series exists from 0, so Prometheus' increase() counts a hub's first offline too.
  for (const state of STATES) transitions.inc({ state }, 0);
  return {
    transitions,
    detection: new Histogram({
      name: "picket_fleet_detection_seconds",
      help: "From a device's last heartbeat (its clock) to the hub concluding it offline",
      buckets: [2, 4, 6, 7, 8, 9, 10, 12, 15, 20, 30, 60],
      registers,
    }),
    heartbeats: new Counter({ name: "picket_fleet_heartbeats_total", help: "Heartbeats received from devices", registers }),
  };
}
