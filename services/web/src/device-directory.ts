import type { Heartbeat, ServiceName } from "@picket/contracts";

export interface DeviceView {
  id: string;
  online: boolean;
  lastSeenAgoMs: number | null;
  services: Partial<Record<ServiceName, { version: string; ageMs: number; uptimeS: number; rssBytes: number; cpuPct: number; vitals: Record<string, number> }>>;
}

/**
 * What the web UI knows of devices, from their heartbeats. A device is online while any
 * service's heartbeat is younger than `offlineAfterMs`. Pure: time is passed in.
 */
export class DeviceDirectory {
  private readonly beats = new Map<string, Map<ServiceName, { hb: Heartbeat; receivedAt: number }>>();

  constructor(
    private readonly ownDevice: string,
    private readonly offlineAfterMs: number,
  ) {}

  record(hb: Heartbeat, receivedAt: number): void {
    let services = this.beats.get(hb.device);
    if (services === undefined) {
      if (this.beats.size >= 1000) return; // a bound against a flood of made-up device ids
      services = new Map();
      this.beats.set(hb.device, services);
    }
    services.set(hb.service, { hb, receivedAt });
  }

  has(device: string): boolean {
    return device === this.ownDevice || this.beats.has(device);
  }

  list(now: number): DeviceView[] {
    const ids = new Set([this.ownDevice, ...this.beats.keys()]);
    return [...ids].sort((a, b) => (a === this.ownDevice ? -1 : b === this.ownDevice ? 1 : a.localeCompare(b))).map((id) => {
      const services = this.beats.get(id) ?? new Map<ServiceName, { hb: Heartbeat; receivedAt: number }>();
      const view: DeviceView = { id, online: false, lastSeenAgoMs: null, services: {} };
      for (const [name, { hb, receivedAt }] of services) {
        const ageMs = now - receivedAt;
        view.services[name] = { version: hb.version, ageMs, uptimeS: hb.uptimeS, rssBytes: hb.rssBytes, cpuPct: hb.cpuPct, vitals: hb.vitals };
        view.lastSeenAgoMs = view.lastSeenAgoMs === null ? ageMs : Math.min(view.lastSeenAgoMs, ageMs);
      }
      view.online = view.lastSeenAgoMs !== null && view.lastSeenAgoMs < this.offlineAfterMs;
      return view;
    });
  }
}
