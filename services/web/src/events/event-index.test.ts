import { describe, expect, it } from "vitest";
import { mediaNames, type EventDeleted, type MediaEvent, type PresenceEvent, type Trigger } from "@picket/contracts";
import { EventIndex, isUnknownCursor, type EventEntry } from "./event-index.js";

const started = (id: string, at: number, over: Partial<PresenceEvent> = {}): PresenceEvent => ({
  id,
  kind: "presence",
  state: "started",
  device: "pi",
  at,
  triggers: ["pir"],
  test: false,
  media: { snapshot: mediaNames.snapshot(id), clip: mediaNames.clip(id) },
  ...over,
});
const ended = (startedId: string, at: number, triggers: Trigger[] = ["pir"]): PresenceEvent => ({
  id: `${startedId}-end`,
  kind: "presence",
  state: "ended",
  device: "pi",
  at,
  triggers,
  test: false,
  startedId,
});
const snapshot = (eventId: string, bytes = 1234): MediaEvent => ({
  id: `${eventId}-snap`,
  kind: "media",
  device: "pi",
  eventId,
  media: "snapshot",
  object: mediaNames.snapshot(eventId),
  bytes,
  at: 1,
});
const clip = (eventId: string, over: Partial<MediaEvent> = {}): MediaEvent => ({
  id: `${eventId}-clip`,
  kind: "media",
  device: "pi",
  eventId,
  media: "clip",
  object: mediaNames.clip(eventId),
  bytes: 99_000,
  durationMs: 12_000,
  at: 1,
  ...over,
});
const deleted = (eventId: string): EventDeleted => ({ id: `${eventId}-del`, kind: "deleted", device: "pi", eventId, at: 9, by: "admin" });

const entry = (id: string, at: number, over: Partial<EventEntry> = {}): EventEntry => ({
  id,
  device: "pi",
  at,
  endedAt: null,
  triggers: ["pir"],
  test: false,
  snapshot: null,
  clip: null,
  clipPending: true,
  mediaError: null,
  ...over,
});

describe("EventIndex", () => {
  it("makes an entry of a started event, waiting for its clip", () => {
    const ix = new EventIndex();
    expect(ix.apply(started("evt-00001", 1000), 1)).toEqual([{ type: "event", entry: entry("evt-00001", 1000) }]);
    expect(ix.get("evt-00001")).toEqual(entry("evt-00001", 1000));
    expect(ix.sequences("evt-00001")).toEqual([1]);
  });

  it("expects no clip from a started event without media (no camera)", () => {
    const ix = new EventIndex();
    const { media: _none, ...bare } = started("evt-00001", 1000);
    ix.apply(bare, 1);
    expect(ix.get("evt-00001")).toMatchObject({ clipPending: false, snapshot: null, clip: null });
  });

  it("fills in the snapshot, the end, then the clip, each as a change, and records every sequence", () => {
    const ix = new EventIndex();
    ix.apply(started("evt-00001", 1000), 1);
    expect(ix.apply(snapshot("evt-00001", 4321), 2)).toEqual([{ type: "event", entry: entry("evt-00001", 1000, { snapshot: { bytes: 4321 } }) }]);
    expect(ix.apply(ended("evt-00001", 9000, ["motion"]), 3)).toEqual([
      { type: "event", entry: entry("evt-00001", 1000, { snapshot: { bytes: 4321 }, endedAt: 9000, triggers: ["pir", "motion"] }) },
    ]);
    expect(ix.apply(clip("evt-00001"), 4)).toEqual([
      { type: "event", entry: entry("evt-00001", 1000, { snapshot: { bytes: 4321 }, endedAt: 9000, triggers: ["pir", "motion"], clip: { bytes: 99_000, durationMs: 12_000 }, clipPending: false }) },
    ]);
    expect(ix.sequences("evt-00001")).toEqual([1, 2, 3, 4]);
    // The same record again changes nothing.
    expect(ix.apply(clip("evt-00001"), 4)).toEqual([]);
  });

  it("says why media are missing", () => {
    const ix = new EventIndex();
    ix.apply(started("evt-00001", 1000), 1);
    ix.apply(clip("evt-00001", { object: undefined, bytes: undefined, durationMs: undefined, error: "not stored: camera gave no video" }), 2);
    expect(ix.get("evt-00001")).toMatchObject({ clip: null, clipPending: false, mediaError: "clip: not stored: camera gave no video" });
    ix.apply({ ...snapshot("evt-00001"), object: undefined, bytes: undefined, error: "not stored: timeout" }, 3);
    expect(ix.get("evt-00001")?.mediaError).toBe("clip: not stored: camera gave no video; snapshot: not stored: timeout");
  });

  it("keeps media and the end that arrive before their started event, and applies them when it comes", () => {
    const ix = new EventIndex();
    expect(ix.apply(snapshot("evt-00001"), 1)).toEqual([]);
    expect(ix.apply(clip("evt-00001"), 2)).toEqual([]);
    expect(ix.apply(ended("evt-00001", 5000), 3)).toEqual([]);
    expect(ix.get("evt-00001")).toBeUndefined();
    expect(ix.sequences("evt-00001")).toEqual([1, 2, 3]);
    expect(ix.apply(started("evt-00001", 1000), 4)).toEqual([
      { type: "event", entry: entry("evt-00001", 1000, { snapshot: { bytes: 1234 }, clip: { bytes: 99_000, durationMs: 12_000 }, clipPending: false, endedAt: 5000 }) },
    ]);
    expect(ix.sequences("evt-00001").sort()).toEqual([1, 2, 3, 4]);
  });

  it("drops a deleted event, says so once, and ignores its late records", () => {
    const ix = new EventIndex();
    ix.apply(started("evt-00001", 1000), 1);
    ix.apply(started("evt-00002", 2000), 2);
    expect(ix.apply(deleted("evt-00001"), 3)).toEqual([{ type: "deleted", id: "evt-00001", device: "pi" }]);
    expect(ix.apply(deleted("evt-00001"), 4)).toEqual([]);
    expect(ix.get("evt-00001")).toBeUndefined();
    expect(ix.wasDeleted("evt-00001")).toBe(true);
    expect(ix.apply(clip("evt-00001"), 5)).toEqual([]);
    expect(ix.apply(started("evt-00001", 1000), 6)).toEqual([]);
    expect(ix.query({ limit: 10 }).events.map((e) => e.id)).toEqual(["evt-00002"]);
    expect(ix.size).toBe(1);
  });

  it("forgets orphan records of an event deleted before its start was read", () => {
    const ix = new EventIndex();
    ix.apply(snapshot("evt-00001"), 1);
    ix.apply(deleted("evt-00001"), 2);
    expect(ix.sequences("evt-00001")).toEqual([]);
  });

  it("lists newest first by time, whatever the order records came in, and filters by device, trigger and time", () => {
    const ix = new EventIndex();
    ix.apply(started("evt-00003", 3000, { triggers: ["motion"] }), 1);
    ix.apply(started("evt-00001", 1000), 2);
    ix.apply(started("evt-00004", 4000, { device: "garage" }), 3);
    ix.apply(started("evt-00002", 2000, { triggers: ["test"], test: true }), 4);
    ix.apply(started("evt-00005", 5000, { triggers: ["pir", "motion"] }), 5);
    const ids = (q: Parameters<EventIndex["query"]>[0]) => ix.query(q).events.map((e) => e.id);
    expect(ids({ limit: 30 })).toEqual(["evt-00005", "evt-00004", "evt-00003", "evt-00002", "evt-00001"]);
    expect(ids({ limit: 30, device: "garage" })).toEqual(["evt-00004"]);
    expect(ids({ limit: 30, trigger: "motion" })).toEqual(["evt-00005", "evt-00003"]);
    expect(ids({ limit: 30, trigger: "test" })).toEqual(["evt-00002"]);
    expect(ids({ limit: 30, from: 2000, to: 4000 })).toEqual(["evt-00004", "evt-00003", "evt-00002"]);
    expect(ids({ limit: 30, device: "pi", from: 1500, trigger: "pir" })).toEqual(["evt-00005"]);
  });

  it("pages with `before` and says whether more follow", () => {
    const ix = new EventIndex();
    for (let i = 1; i <= 7; i++) ix.apply(started(`evt-0000${i}`, i * 1000), i);
    const p1 = ix.query({ limit: 3 });
    expect(p1.events.map((e) => e.id)).toEqual(["evt-00007", "evt-00006", "evt-00005"]);
    expect(p1.more).toBe(true);
    const p2 = ix.query({ limit: 3, before: "evt-00005" });
    expect(p2.events.map((e) => e.id)).toEqual(["evt-00004", "evt-00003", "evt-00002"]);
    expect(p2.more).toBe(true);
    const p3 = ix.query({ limit: 3, before: "evt-00002" });
    expect(p3).toMatchObject({ events: [{ id: "evt-00001" }], more: false });
    expect(ix.query({ limit: 7 }).more).toBe(false);
    // Equal times are ordered by id, so paging neither repeats nor skips.
    ix.apply(started("evt-0000a", 7000), 8);
    expect(ix.query({ limit: 1 }).events[0]?.id).toBe("evt-0000a");
    expect(ix.query({ limit: 1, before: "evt-0000a" }).events[0]?.id).toBe("evt-00007");
    try {
      ix.query({ limit: 3, before: "evt-gone-1" });
      expect.unreachable();
    } catch (err) {
      expect(isUnknownCursor(err)).toBe(true);
    }
  });

  it("keeps at most maxEntries, dropping the oldest, and hands out copies", () => {
    const ix = new EventIndex({ maxEntries: 3 });
    for (let i = 1; i <= 5; i++) ix.apply(started(`evt-0000${i}`, i * 1000), i);
    expect(ix.size).toBe(3);
    expect(ix.query({ limit: 10 }).events.map((e) => e.id)).toEqual(["evt-00005", "evt-00004", "evt-00003"]);
    expect(ix.get("evt-00001")).toBeUndefined();
    // An event older than everything kept is not added at all.
    expect(ix.apply(started("evt-00000", 1), 6)).toEqual([]);
    expect(ix.size).toBe(3);
    const e = ix.get("evt-00005") as EventEntry;
    e.triggers.push("motion");
    expect(ix.get("evt-00005")?.triggers).toEqual(["pir"]);
  });
});
