import type { KnownDevice } from "./telegram-bot.js";

/** A device is online while heartbeats keep coming; a few missed ones make it offline. */
const ONLINE_FOR_MS = 30_000;
const MAX_DEVICES = 500;

/**
 * The cameras the bot knows of: its own, and every device whose heartbeats it has seen on the
 * bus (a hub sees the whole fleet). Pure: times are passed in.
 */
export class DeviceDirectory {
  private readonly seen = new Map<string, number>();

  constructor(private readonly own: string) {}

  /** A heartbeat of some service of `device` at `at` (wall clock, ms). */
  heard(device: string, at: number): void {
    const prev = this.seen.get(device);
    if (prev === undefined && this.seen.size >= MAX_DEVICES) return;
    this.seen.set(device, Math.max(prev ?? 0, at));
  }

  /** This device first, then the others by name. */
  list(now: number): KnownDevice[] {
    const names = [this.own, ...[...this.seen.keys()].filter((d) => d !== this.own).sort()];
    return names.map((device) => {
      const last = this.seen.get(device);
      return { device, online: last !== undefined && now - last < ONLINE_FOR_MS, lastSeen: last };
    });
  }
}
