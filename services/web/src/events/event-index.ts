import type { EventDeleted, EventEntry, MediaEvent, PresenceEvent, Trigger } from "@picket/contracts";

export type { EventEntry };

/** A record of the events stream that the index reads. */
export type StoredEvent = PresenceEvent | MediaEvent | EventDeleted;

/** What a record changed: an entry that is new or different, or one that is gone. */
export type IndexChange = { type: "event"; entry: EventEntry } | { type: "deleted"; id: string; device: string };

export interface EventQuery {
  device?: string;
  trigger?: Trigger;
  /** Only events at or after this time (ms since epoch). */
  from?: number;
  /** Only events at or before this time (ms since epoch). */
  to?: number;
  /** The page after this event (older than it). */
  before?: string;
  /** 1–100. */
  limit: number;
}

/** `before` names an event the index does not hold (deleted, or dropped as too old). */
export class UnknownCursorError extends Error {
  override readonly name = "UnknownCursorError";
  constructor(readonly id: string) {
    super(`before: no event ${id} (deleted or too old); load the list from the start`);
  }
}
export const isUnknownCursor = (err: unknown): err is UnknownCursorError => err instanceof UnknownCursorError;

interface Slot {
  entry: EventEntry;
  /** Stream sequences of the records about this event (started, ended, media). */
  seqs: number[];
}

/** Records about an event whose `started` record has not been read (yet). */
interface Orphan {
  records: { event: PresenceEvent | MediaEvent; seq: number }[];
}

export interface EventIndexOptions {
  /** Entries kept; past this the oldest are dropped. */
  maxEntries?: number;
  /** Events waiting for their `started` record; past this the oldest are dropped. */
  maxOrphans?: number;
  /** Deleted ids remembered, so late media of a deleted event are recognised. */
  maxTombstones?: number;
}

/** Newer first: later `at`, then the larger id. */
const newer = (a: EventEntry, b: EventEntry): boolean => a.at > b.at || (a.at === b.at && a.id > b.id);

/**
 * The events timeline folded from the events stream: a presence `started` record makes an
 * entry, `ended` closes it, `media` records fill in the snapshot and clip, and `deleted`
 * removes it. Records may come in any order (media before their `started`); a record about
 * a deleted event is ignored. Pure: no I/O, no clock.
 */
export class EventIndex {
  /** Oldest first, by `at` then id. */
  private readonly timeline: Slot[] = [];
  private readonly byId = new Map<string, Slot>();
  private readonly orphans = new Map<string, Orphan>();
  private readonly tombstones = new Set<string>();
  private readonly maxEntries: number;
  private readonly maxOrphans: number;
  private readonly maxTombstones: number;

  constructor(opts: EventIndexOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.maxOrphans = opts.maxOrphans ?? 1_000;
    this.maxTombstones = opts.maxTombstones ?? 10_000;
  }

  get size(): number {
    return this.timeline.length;
  }

  /** A copy of the entry, or undefined. */
  get(id: string): EventEntry | undefined {
    const slot = this.byId.get(id);
    return slot === undefined ? undefined : copy(slot.entry);
  }

  /** The stream sequences of the records about this event, and of orphan records about it. */
  sequences(id: string): number[] {
    return [...(this.byId.get(id)?.seqs ?? []), ...(this.orphans.get(id)?.records.map((r) => r.seq) ?? [])];
  }

  /** True when the event was deleted (as far as this index remembers). */
  wasDeleted(id: string): boolean {
    return this.tombstones.has(id);
  }

  /** Forgets everything (the stream was lost and is read again). */
  clear(): void {
    this.timeline.length = 0;
    this.byId.clear();
    this.orphans.clear();
    this.tombstones.clear();
  }

  /** Folds one record read at stream sequence `seq` into the index; returns what changed. */
  apply(event: StoredEvent, seq: number): IndexChange[] {
    switch (event.kind) {
      case "deleted":
        return this.remove(event.eventId);
      case "presence":
        if (event.state === "started") return this.start(event, seq);
        return this.attach(event.startedId ?? event.id, event, seq);
      case "media":
        return this.attach(event.eventId, event, seq);
    }
  }

  /** Newest first, filtered, one page; `more` says whether older matching entries exist. Throws UnknownCursorError. */
  query(q: EventQuery): { events: EventEntry[]; more: boolean } {
    let i = this.timeline.length - 1;
    if (q.before !== undefined) {
      const cursor = this.byId.get(q.before);
      if (cursor === undefined) throw new UnknownCursorError(q.before);
      i = this.position(cursor.entry) - 1;
    }
    const events: EventEntry[] = [];
    for (; i >= 0; i--) {
      const e = (this.timeline[i] as Slot).entry;
      if (q.from !== undefined && e.at < q.from) break;
      if (q.to !== undefined && e.at > q.to) continue;
      if (q.device !== undefined && e.device !== q.device) continue;
      if (q.trigger !== undefined && !e.triggers.includes(q.trigger)) continue;
      if (events.length === q.limit) return { events, more: true };
      events.push(copy(e));
    }
    return { events, more: false };
  }

  private start(event: PresenceEvent, seq: number): IndexChange[] {
    if (this.tombstones.has(event.id)) return [];
    const known = this.byId.get(event.id);
    if (known !== undefined) {
      // A record stored twice (a publish retried past the duplicate window).
      if (!known.seqs.includes(seq)) known.seqs.push(seq);
      return [];
    }
    const entry: EventEntry = {
      id: event.id,
      device: event.device,
      at: event.at,
      endedAt: null,
      triggers: [...event.triggers],
      test: event.test,
      snapshot: null,
      clip: null,
      clipPending: event.media?.clip !== undefined,
      mediaError: null,
    };
    const slot: Slot = { entry, seqs: [seq] };
    const orphan = this.orphans.get(event.id);
    this.orphans.delete(event.id);
    for (const r of orphan?.records ?? []) {
      fold(entry, r.event);
      slot.seqs.push(r.seq);
    }
    this.insert(slot);
    const changes: IndexChange[] = [{ type: "event", entry: copy(entry) }];
    while (this.timeline.length > this.maxEntries) {
      const oldest = this.timeline.shift() as Slot;
      this.byId.delete(oldest.entry.id);
      // Dropped for room, not deleted: the same entry goes back if it was the one just added.
      if (oldest === slot) return [];
    }
    return changes;
  }

  private attach(id: string, event: PresenceEvent | MediaEvent, seq: number): IndexChange[] {
    if (this.tombstones.has(id)) return [];
    const slot = this.byId.get(id);
    if (slot === undefined) {
      const orphan = this.orphans.get(id) ?? { records: [] };
      orphan.records.push({ event, seq });
      this.orphans.set(id, orphan);
      if (this.orphans.size > this.maxOrphans) this.orphans.delete(this.orphans.keys().next().value as string);
      return [];
    }
    if (!slot.seqs.includes(seq)) slot.seqs.push(seq);
    const before = JSON.stringify(slot.entry);
    fold(slot.entry, event);
    return JSON.stringify(slot.entry) === before ? [] : [{ type: "event", entry: copy(slot.entry) }];
  }

  private remove(id: string): IndexChange[] {
    this.tombstones.add(id);
    if (this.tombstones.size > this.maxTombstones) this.tombstones.delete(this.tombstones.values().next().value as string);
    this.orphans.delete(id);
    const slot = this.byId.get(id);
    if (slot === undefined) return [];
    this.byId.delete(id);
    const at = this.position(slot.entry);
    if (at >= 0) this.timeline.splice(at, 1);
    return [{ type: "deleted", id, device: slot.entry.device }];
  }

  private insert(slot: Slot): void {
    this.byId.set(slot.entry.id, slot);
    // Records arrive roughly in time order: look from the newest end.
    let i = this.timeline.length;
    while (i > 0 && newer((this.timeline[i - 1] as Slot).entry, slot.entry)) i--;
    this.timeline.splice(i, 0, slot);
  }

  /** Index of an entry in the timeline (binary search by `at`, then id). */
  private position(entry: EventEntry): number {
    let lo = 0;
    let hi = this.timeline.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = (this.timeline[mid] as Slot).entry;
      if (e.id === entry.id) return mid;
      if (newer(e, entry)) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }
}

/** Applies an `ended` or `media` record to an entry. */
function fold(entry: EventEntry, event: PresenceEvent | MediaEvent): void {
  if (event.kind === "presence") {
    entry.endedAt = event.at;
    for (const t of event.triggers) if (!entry.triggers.includes(t)) entry.triggers.push(t);
    return;
  }
  const stored = event.error === undefined && event.object !== undefined;
  if (event.media === "snapshot") {
    entry.snapshot = stored ? { bytes: event.bytes ?? 0 } : null;
  } else {
    entry.clip = stored ? { bytes: event.bytes ?? 0, durationMs: event.durationMs ?? 0 } : null;
    entry.clipPending = false;
  }
  if (!stored) {
    const problem = `${event.media}: ${event.error ?? "not stored"}`;
    entry.mediaError = entry.mediaError === null ? problem : `${entry.mediaError}; ${problem}`;
  }
}

function copy(e: EventEntry): EventEntry {
  return {
    ...e,
    triggers: [...e.triggers],
    snapshot: e.snapshot === null ? null : { ...e.snapshot },
    clip: e.clip === null ? null : { ...e.clip },
  };
}
