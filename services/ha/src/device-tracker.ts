import type { Heartbeat, ServiceName } from "@picket/contracts";

/**
 * The services that make a device a camera for Home Assistant. A hub's own web, bot and
 * fleet services heartbeat under the hub's id, which has no sensor to show: it gets no entities.
 */
export const SENSING_SERVICES: readonly ServiceName[] = ["camera", "pir"];

interface Tracked {
  lastHeardAt: number;
  online: boolean;
  version: string;
  /** The pir service's `armed` vital (1 = armed now), when it reported one. */
  pirArmed: boolean | undefined;
}

/** What a heartbeat changed for Home Assistant. */
export interface HeardChange {
  device: string;
  /** First heard: its discovery configs are due. */
  isNew: boolean;
  /** Was offline (or new) and is online now. */
  cameOnline: boolean;
  /** Its software version changed (an update): its discovery configs are due again. */
  versionChanged: boolean;
  /** The pir service's report of whether it is armed now changed. */
  pirArmedChanged: boolean;
}

/**
 * The devices seen on the bus and whether each is online: online while its camera or pir
 * service heartbeats, offline once none has for `offlineAfterMs`. Pure: times are passed in.
 */
export class DeviceTracker {
  private readonly devices = new Map<string, Tracked>();

  constructor(
    readonly offlineAfterMs: number,
    /** A bound against a flood of made-up device ids: devices past it are not tracked. */
    private readonly maxDevices = 1000,
  ) {}

  /** A heartbeat received at `at`; undefined when it is of no sensing service, or past the bound. */
  heard(hb: Heartbeat, at: number): HeardChange | undefined {
    if (!SENSING_SERVICES.includes(hb.service)) return undefined;
    const prev = this.devices.get(hb.device);
    if (prev === undefined && this.devices.size >= this.maxDevices) return undefined;
    const reported = hb.service === "pir" && hb.vitals.armed !== undefined ? hb.vitals.armed === 1 : undefined;
    const pirArmed = reported ?? prev?.pirArmed;
    this.devices.set(hb.device, { lastHeardAt: Math.max(prev?.lastHeardAt ?? 0, at), online: true, version: hb.version, pirArmed });
    return {
      device: hb.device,
      isNew: prev === undefined,
      cameOnline: prev?.online !== true,
      versionChanged: prev !== undefined && prev.version !== hb.version,
      pirArmedChanged: prev?.pirArmed !== pirArmed,
    };
  }

  /** The devices that fell silent by `now`, each once (they count as offline from then on). */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [device, t] of this.devices) {
      if (t.online && now - t.lastHeardAt >= this.offlineAfterMs) {
        t.online = false;
        gone.push(device);
      }
    }
    return gone;
  }

  /** How long from `now` until the next online device falls silent, or undefined when none is online. */
  nextExpiryIn(now: number): number | undefined {
    let next: number | undefined;
    for (const t of this.devices.values()) {
      if (!t.online) continue;
      const due = Math.max(0, t.lastHeardAt + this.offlineAfterMs - now);
      next = next === undefined ? due : Math.min(next, due);
    }
    return next;
  }

  has(device: string): boolean {
    return this.devices.has(device);
  }

  isOnline(device: string): boolean {
    return this.devices.get(device)?.online === true;
  }

  version(device: string): string | undefined {
    return this.devices.get(device)?.version;
  }

  pirArmed(device: string): boolean | undefined {
    return this.devices.get(device)?.pirArmed;
  }

  /** Every tracked device, online or not. */
  list(): string[] {
    return [...this.devices.keys()];
  }

  get size(): number {
    return this.devices.size;
  }
}
