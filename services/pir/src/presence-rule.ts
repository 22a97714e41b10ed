import type { PresenceEvent, Trigger } from "@picket/contracts";

export type Arming = "armed" | "disarmed";

export interface PresenceRuleOptions {
  device: string;
  /** After an alarm, further PIR rises within this window do not raise another. */
  cooldownMs: number;
  newId: (at: number) => string;
}

/**
 * The first presence rule: armed and a PIR rising edge → presence started, then quiet for
 * the cooldown. Pure; the caller supplies times. (Fusion with camera motion comes later.)
 */
export class PresenceRule {
  private arming: Arming = "armed";
  private lastAlarmAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: PresenceRuleOptions) {}

  setArming(arming: Arming): void {
    this.arming = arming;
  }

  get armed(): boolean {
    return this.arming === "armed";
  }

  /**
   * A debounced PIR level change at wall-clock `at`. `mono` is the same moment on a monotonic
   * clock, for the cooldown, so a clock jump neither suppresses nor doubles alarms.
   * Returns the event to record, if any.
   */
  onPir(level: 0 | 1, at: number, mono: number = at): PresenceEvent | undefined {
    if (level !== 1 || this.arming !== "armed") return undefined;
    if (mono - this.lastAlarmAt < this.opts.cooldownMs) return undefined;
    this.lastAlarmAt = mono;
    return this.event(at, ["pir"], false);
  }

  /** A test alarm runs the whole path whatever the arming, and does not start a cooldown. */
  testAlarm(at: number): PresenceEvent {
    return this.event(at, ["test"], true);
  }

  private event(at: number, triggers: Trigger[], test: boolean): PresenceEvent {
    return { id: this.opts.newId(at), kind: "presence", state: "started", device: this.opts.device, at, triggers, test };
  }
}

/** A sortable event id: base-36 time then random. */
export function newEventId(at: number, random: () => number = Math.random): string {
  const rand = Array.from({ length: 8 }, () => Math.floor(random() * 36).toString(36)).join("");
  return `ev-${at.toString(36)}-${rand}`;
}
