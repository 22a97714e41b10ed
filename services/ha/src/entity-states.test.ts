import type { CameraStatusEvent, EventDeleted, MediaEvent, PresenceEvent } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { armedAttributes, armedNow, foldEvent, lastEventAttributes, lastEventState, parseArmedCommand, type BusEvent, type EventStates } from "./entity-states.js";

const AT = Date.UTC(2026, 4, 1, 12, 0, 0);
const started: PresenceEvent = { id: "ev-00000001", kind: "presence", state: "started", device: "pi", at: AT, triggers: ["pir", "motion"], test: false, media: { snapshot: "snapshots/ev-00000001.jpg", clip: "clips/ev-00000001.mp4" } };
const ended: PresenceEvent = { id: "ev-00000002", kind: "presence", state: "ended", device: "pi", at: AT + 20_000, triggers: ["pir"], test: false, startedId: "ev-00000001" };
const media: MediaEvent = { id: "ev-00000001-s", kind: "media", device: "pi", eventId: "ev-00000001", media: "snapshot", object: "snapshots/ev-00000001.jpg", bytes: 1000, at: AT };
const camera: CameraStatusEvent = { id: "ev-00000003", kind: "camera", device: "pi", state: "lost", reason: "no frame for 3 s", at: AT + 30_000 };
const deleted: EventDeleted = { id: "ev-00000004", kind: "deleted", device: "pi", eventId: "ev-00000001", at: AT + 40_000, by: "admin" };

const fold = (...events: BusEvent[]) => events.reduce<EventStates>((s, e) => foldEvent(s, e), {});

describe("entity states from events", () => {
  it("presence started is ON with the event's photo, ended is OFF and keeps it", () => {
    expect(fold(started)).toMatchObject({ presence: "ON", snapshot: { eventId: started.id, object: "snapshots/ev-00000001.jpg" } });
    expect(fold(started, ended)).toMatchObject({ presence: "OFF", snapshot: { eventId: started.id }, last: { id: ended.id, state: "ended" } });
  });

  it("an ended event read alone (a restart) names its start's photo", () => {
    expect(fold(ended).snapshot).toEqual({ eventId: "ev-00000001", object: "snapshots/ev-00000001.jpg" });
  });

  it("media records change nothing; camera events are last events but leave presence and the photo", () => {
    const s = fold(started);
    expect(foldEvent(s, media)).toBe(s);
    expect(foldEvent(s, camera)).toMatchObject({ presence: "ON", snapshot: s.snapshot, last: { kind: "camera", state: "lost", reason: "no frame for 3 s" } });
  });

  it("deleting the shown event takes its photo away; deleting another changes nothing", () => {
    expect(fold(started, ended, deleted).snapshot).toBeUndefined();
    const s = fold(started);
    const { applied: _, ...after } = foldEvent(s, { ...deleted, eventId: "ev-other-00" });
    expect(after).toEqual({ presence: s.presence, last: s.last, snapshot: s.snapshot });
  });

  it("an event read again (the stream read anew after a broker restart) changes nothing, also after newer ones", () => {
    const s = fold(started, ended, camera);
    for (const again of [started, ended, camera]) expect(foldEvent(s, again)).toBe(s);
    expect(fold(started, ended, started).presence).toBe("OFF");
  });

  it("the last event sensor shows kind and state, with id, ISO time and trigger as attributes", () => {
    const last = fold(started).last;
    if (last === undefined) throw new Error("no last event");
    expect(lastEventState(last)).toBe("presence started");
    expect(lastEventAttributes(last)).toEqual({ event_id: "ev-00000001", kind: "presence", state: "started", time: "2026-05-01T12:00:00.000Z", trigger: "pir+motion", test: false });
    const cam = fold(camera).last;
    if (cam === undefined) throw new Error("no last event");
    expect(lastEventAttributes(cam)).toEqual({ event_id: "ev-00000003", kind: "camera", state: "lost", time: "2026-05-01T12:00:30.000Z", reason: "no frame for 3 s" });
  });
});

describe("the armed switch's state", () => {
  const scheduled = { mode: "scheduled" as const, schedule: [{ days: [1], from: "22:00", to: "06:00" }] };
  it("follows the stored arming; a schedule and an unset arming take the pir service's report", () => {
    expect(armedNow({ mode: "armed" }, false)).toBe("ON");
    expect(armedNow({ mode: "disarmed" }, true)).toBe("OFF");
    expect(armedNow(scheduled, true)).toBe("ON");
    expect(armedNow(scheduled, false)).toBe("OFF");
    expect(armedNow(undefined, false)).toBe("OFF");
  });

  it("claims no schedule without the pir's report, and an unset arming is armed as PICKET_ARMED's default", () => {
    expect(armedNow(scheduled, undefined)).toBe("OFF");
    expect(armedNow(undefined, undefined)).toBe("ON");
  });

  it("says the stored mode as an attribute", () => {
    expect(armedAttributes(scheduled)).toEqual({ mode: "scheduled" });
    expect(armedAttributes(undefined)).toEqual({ mode: "default" });
  });
});

describe("armed switch commands", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  it("ON arms and OFF disarms", () => {
    expect(parseArmedCommand(text("ON"))).toEqual({ ok: true, arming: "armed" });
    expect(parseArmedCommand(text("OFF\n"))).toEqual({ ok: true, arming: "disarmed" });
  });

  it("anything else is refused with a reason", () => {
    for (const bad of ["on", "true", "1", "{\"state\":\"ON\"}", "ONN"]) expect(parseArmedCommand(text(bad)), bad).toEqual({ ok: false, reason: "the payload must be ON or OFF" });
    expect(parseArmedCommand(text(""))).toEqual({ ok: false, reason: "the payload is empty: send ON or OFF" });
    expect(parseArmedCommand(new Uint8Array([0x4f, 0xff, 0xfe]))).toEqual({ ok: false, reason: "the payload is not UTF-8" });
  });
});
