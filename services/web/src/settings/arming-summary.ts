import type { ArmingSetting } from "@picket/contracts";

/** A setting as read from the bucket, with when it was last written (the server's clock). */
export interface Stored<T> {
  value: T;
  changedAt: number;
}

/** What the pir service said in its latest heartbeat: `vitals.armed`, and when it arrived. */
export interface PirReport {
  armed: boolean;
  heardAt: number;
}

export interface ArmingSummary {
  mode: ArmingSetting["mode"];
  armedNow: boolean;
}

/**
 * How long after a setting is written a pir heartbeat is taken to reflect it: the pir service
 * applies a change within milliseconds, and clocks on one device agree closely.
 */
export const PIR_FOLLOWS_MS = 500;

/**
 * A device's arming for the device list: the stored mode, and whether it is armed now.
 *
 * `armed` and `disarmed` say so themselves. A schedule is evaluated where it is enforced: the
 * pir service reports `armed` in its heartbeat, by its own schedule logic (the device's time
 * zone, DST and all). Its report counts only when it arrived after the setting was written;
 * until then (a second or two after a change) or without a live pir service, a schedule shows
 * as not armed now: the web cannot tell, and claiming protection it cannot see would be worse.
 * Unset, the pir service's default (PICKET_ARMED) applies: its report says which; without one,
 * armed, as that default is.
 */
export function armingSummary(stored: Stored<ArmingSetting> | undefined, pir: PirReport | undefined): ArmingSummary {
  const current = pir !== undefined && (stored === undefined || pir.heardAt >= stored.changedAt + PIR_FOLLOWS_MS) ? pir : undefined;
  if (stored === undefined) {
    const armed = current?.armed ?? true;
    return { mode: armed ? "armed" : "disarmed", armedNow: armed };
  }
  const { mode } = stored.value;
  if (mode !== "scheduled") return { mode, armedNow: mode === "armed" };
  return { mode, armedNow: current?.armed ?? false };
}

/** The pir service's report from its heartbeat vitals, when it carries one and is younger than `maxAgeMs`. */
export function pirReport(pir: { ageMs: number; vitals: Record<string, number> } | undefined, now: number, maxAgeMs: number): PirReport | undefined {
  const armed = pir?.vitals.armed;
  if (pir === undefined || armed === undefined || pir.ageMs >= maxAgeMs) return undefined;
  return { armed: armed === 1, heardAt: now - pir.ageMs };
}
