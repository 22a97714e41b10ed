import { DeviceDirectory, type DeviceView } from "@picket/runtime";
import type { DeviceState, DeviceStatusEvent, Heartbeat } from "@picket/contracts";

/** What the detector last concluded about a device; kept in the bus so a restarted hub goes on from it. */
export interface DeviceRecord {
  state: DeviceState;
  /** When it entered this state, ms since epoch. */
  since: number;
  /** The `at` of its newest heartbeat then (device clock). */
  lastHeartbeatAt?: number;
}

/**
 * A change of a device's state, as the detector concludes it. `basisAt` is the device-clock
 * moment the conclusion rests on, the same for every detector that sees the same heartbeats:
 * for `offline` its last heartbeat, otherwise the first heartbeat since its previous change.
 */
export type Transition = Omit<DeviceStatusEvent, "id" | "kind"> & { basisAt?: number };

export interface DetectorOptions {
  /** A device none of whose services has been heard for this long is offline. */
  offlineAfterMs: number;
  /** A device must stay degraded this long before that is announced (a camera that recovers at once, or one still starting, is not news). */
  degradedAfterMs: number;
  /** The most devices followed (a bound against made-up device ids). */
  maxDevices: number;
  /** The hub's own id: its services beat too, but it watches, it is not watched. */
  hubDevice?: string;
}

/**
 * The hub's failure detector: heartbeats in, state changes out. A device is offline after
 * `offlineAfterMs` of silence (a fixed timeout: see docs/fleet.md for why not phi-accrual),
 * degraded when its heartbeats say its camera or one of its services is unwell for
 * `degradedAfterMs`, online otherwise.
 *
 * No false alarm when the silence is the hub's own: `holdOffline(now)` (called at start, after
 * the bus reconnects, and after the hub itself stalled) lets no device go offline before
 * every device has had `offlineAfterMs` to be heard again.
 *
 * Pure: every time is passed in. Times for silence (`receivedAt`, `now`) are the hub's
 * clock; `wallNow` stamps the conclusions.
 */
export class FleetDetector {
  private readonly directory: DeviceDirectory;
  private readonly records = new Map<string, DeviceRecord>();
  /** Newest heartbeat `at` per device. */
  private readonly newest = new Map<string, number>();
  /** The first heartbeat `at` since the device's last change (or since the detector started). */
  private readonly firstSince = new Map<string, number>();
  /** Since when (hub clock) a device has looked degraded while recorded online. */
  private readonly degradedSince = new Map<string, number>();
  private holdUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: DetectorOptions) {
    this.directory = new DeviceDirectory(undefined, opts.offlineAfterMs, undefined, opts.maxDevices);
  }

  /** A conclusion from before (a restarted hub). */
  restore(device: string, record: DeviceRecord): void {
    if (device === this.opts.hubDevice) return;
    if (!this.records.has(device) && this.records.size >= this.opts.maxDevices) return;
    this.records.set(device, record);
    if (record.lastHeartbeatAt !== undefined) this.newest.set(device, record.lastHeartbeatAt);
  }

  record(hb: Heartbeat, receivedAt: number): void {
    if (hb.device === this.opts.hubDevice) return;
    this.directory.record(hb, receivedAt);
    if (!this.directory.has(hb.device)) return;
    this.newest.set(hb.device, Math.max(this.newest.get(hb.device) ?? 0, hb.at));
    if (!this.firstSince.has(hb.device)) this.firstSince.set(hb.device, hb.at);
  }

  /** Forgets a device (removed from the hub): no conclusion about it any more, until it is heard again. */
  forget(device: string): void {
    this.directory.forget(device);
    this.records.delete(device);
    this.newest.delete(device);
    this.firstSince.delete(device);
    this.degradedSince.delete(device);
  }

  /** No device goes offline before `now + offlineAfterMs`: the hub was deaf, not the devices silent. */
  holdOffline(now: number): void {
    this.holdUntil = Math.max(this.holdUntil, now + this.opts.offlineAfterMs);
  }

  /** Whether offline conclusions are held back at `now`. */
  holding(now: number): boolean {
    return now < this.holdUntil;
  }

  /** The changes since the last check; each is also recorded, so it is reported once. */
  check(now: number, wallNow: number): Transition[] {
    const out: Transition[] = [];
    const devices = new Set([...this.records.keys(), ...this.directory.heard()]);
    for (const device of devices) {
      const t = this.checkOne(device, now, wallNow);
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /** The devices heard since the detector started. */
  heard(): string[] {
    return [...this.directory.heard()];
  }

  /** Every device the detector follows, with its recorded state. */
  states(): ReadonlyMap<string, DeviceRecord> {
    return this.records;
  }

  /** What the heartbeats say of a device now (undefined: never heard since the hub started). */
  view(device: string, now: number): DeviceView | undefined {
    return this.directory.get(device, now);
  }

  private checkOne(device: string, now: number, wallNow: number): Transition | undefined {
    const record = this.records.get(device);
    const view = this.directory.get(device, now);
    const target: DeviceState = view?.state ?? "offline";
    const lastHeartbeatAt = this.newest.get(device);
    const change = (state: DeviceState, reason: string): Transition => {
      const previous = record?.state ?? "new";
      const t: Transition = { device, state, previous, reason, at: wallNow };
      if (lastHeartbeatAt !== undefined) t.lastHeartbeatAt = lastHeartbeatAt;
      if (record?.state === "offline" && state !== "offline") t.downMs = Math.max(0, Math.round(wallNow - record.since));
      const basisAt = state === "offline" ? lastHeartbeatAt : this.firstSince.get(device);
      if (basisAt !== undefined) t.basisAt = basisAt;
      this.records.set(device, { state, since: wallNow, ...(lastHeartbeatAt === undefined ? {} : { lastHeartbeatAt }) });
      this.degradedSince.delete(device);
      this.firstSince.delete(device);
      return t;
    };
    if (target !== "degraded") this.degradedSince.delete(device);
    switch (target) {
      case "offline":
        if (record === undefined || record.state === "offline" || this.holding(now)) return undefined;
        return change("offline", view?.problem ?? "not heard from since the hub started");
      case "online":
        return record?.state === "online" ? undefined : change("online", record === undefined ? "heard for the first time" : record.state === "offline" ? "heard again" : "well again");
      case "degraded": {
        const problem = view?.problem ?? "unwell";
        if (record?.state === "degraded") return undefined;
        // A device just started (or back from silence) whose camera is still starting is
        // not news either: it stays as it was recorded until the trouble has lasted.
        const since = this.degradedSince.get(device) ?? now;
        this.degradedSince.set(device, since);
        return now - since >= this.opts.degradedAfterMs ? change("degraded", problem) : undefined;
      }
    }
  }
}
