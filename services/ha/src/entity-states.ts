import { mediaNames, type ArmingSetting, type CameraStatusEvent, type DeviceStatusEvent, type EventDeleted, type MediaEvent, type PresenceEvent } from "@picket/contracts";

export type OnOff = "ON" | "OFF";

/** The event records the bridge reads from the events stream. */
export type BusEvent = PresenceEvent | CameraStatusEvent | DeviceStatusEvent | MediaEvent | EventDeleted;

/** What the last event sensor shows: an event that happened to the device (not a note about another event). */
export interface LastEvent {
  id: string;
  kind: "presence" | "camera" | "device";
  state: string;
  at: number;
  /** Presence: what noticed it. */
  triggers?: string[];
  /** Presence: a test alarm. */
  test?: boolean;
  /** Camera and device: why, for a person. */
  reason?: string;
}

/** The states a device's events give its entities. */
export interface EventStates {
  presence?: OnOff;
  last?: LastEvent;
  /** The newest event photo: its presence event and its object in the media store. */
  snapshot?: { eventId: string; object: string };
  /** Ids of the latest events applied, so that one read again (the stream read anew after a broker restart) changes nothing. */
  applied?: string[];
}

const APPLIED_KEPT = 32;

/**
 * The entity states after one more event, in stream order. A presence `started` turns the
 * presence sensor ON and names the event's photo; `ended` turns it OFF (and, read alone after a
 * restart, names its start's photo). Camera and device events are last events too. A deleted
 * event's photo is no longer shown. Media records change nothing: the photo's name is known
 * from the presence event, and the bridge waits for the object itself. An event already
 * applied (read again) changes nothing either.
 */
export function foldEvent(prev: EventStates, e: BusEvent): EventStates {
  if (e.kind === "media" || prev.applied?.includes(e.id) === true) return prev;
  const next = applyEvent(prev, e);
  return { ...next, applied: [...(prev.applied ?? []).slice(1 - APPLIED_KEPT), e.id] };
}

function applyEvent(prev: EventStates, e: Exclude<BusEvent, MediaEvent>): EventStates {
  switch (e.kind) {
    case "presence": {
      const last: LastEvent = { id: e.id, kind: "presence", state: e.state, at: e.at, triggers: e.triggers, test: e.test };
      if (e.state === "started") return { ...prev, presence: "ON", last, snapshot: e.media === undefined ? prev.snapshot : { eventId: e.id, object: e.media.snapshot } };
      const fromStart = e.startedId === undefined ? undefined : { eventId: e.startedId, object: mediaNames.snapshot(e.startedId) };
      return { ...prev, presence: "OFF", last, snapshot: prev.snapshot ?? fromStart };
    }
    case "camera":
    case "device":
      return { ...prev, last: { id: e.id, kind: e.kind, state: e.state, at: e.at, reason: e.reason } };
    case "deleted":
      return prev.snapshot?.eventId === e.eventId ? { ...prev, snapshot: undefined } : prev;
  }
}

/** The last event sensor's state: `presence started`, `camera lost`, `device offline`. */
export function lastEventState(e: LastEvent): string {
  return `${e.kind} ${e.state}`;
}

/** The last event sensor's attributes: the event's id, kind, state, ISO time, and what triggered it or why. */
export function lastEventAttributes(e: LastEvent): Record<string, unknown> {
  return {
    event_id: e.id,
    kind: e.kind,
    state: e.state,
    time: new Date(e.at).toISOString(),
    ...(e.triggers === undefined ? {} : { trigger: e.triggers.join("+") }),
    ...(e.test === undefined ? {} : { test: e.test }),
    ...(e.reason === undefined ? {} : { reason: e.reason }),
  };
}

/**
 * Whether the device is armed now, for the armed switch. `armed` and `disarmed` say so. A
 * schedule is evaluated where it is enforced: the pir service reports `armed` in its heartbeat;
 * without its report a schedule is not claimed as armed. Unset, the pir service's default
 * applies (its report, else armed, as PICKET_ARMED's default is).
 */
export function armedNow(stored: ArmingSetting | undefined, pirArmed: boolean | undefined): OnOff {
  const armed = stored === undefined ? (pirArmed ?? true) : stored.mode === "scheduled" ? (pirArmed ?? false) : stored.mode === "armed";
  return armed ? "ON" : "OFF";
}

/** The armed switch's attributes: the stored mode (`armed`, `disarmed`, `scheduled`), or `default` when unset. */
export function armedAttributes(stored: ArmingSetting | undefined): Record<string, unknown> {
  return { mode: stored?.mode ?? "default" };
}

export type ArmedCommand = { ok: true; arming: "armed" | "disarmed" } | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads an armed switch command: `ON` arms, `OFF` disarms (as Home Assistant sends them); anything else is refused with a reason. */
export function parseArmedCommand(payload: Uint8Array): ArmedCommand {
  let text: string;
  try {
    text = utf8.decode(payload).trim();
  } catch {
    return { ok: false, reason: "the payload is not UTF-8" };
  }
  if (text === "ON") return { ok: true, arming: "armed" };
  if (text === "OFF") return { ok: true, arming: "disarmed" };
  return { ok: false, reason: text === "" ? "the payload is empty: send ON or OFF" : "the payload must be ON or OFF" };
}
