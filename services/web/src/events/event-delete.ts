import { randomBytes } from "node:crypto";
import { EVENTS_STREAM, EventDeleted, MediaEvent, PresenceEvent, subjects } from "@picket/contracts";
import { jetstream, jetstreamManager, type Logger, type NatsConnection } from "@picket/runtime";
import type { EventFeed } from "./event-feed.js";
import type { EventMedia } from "./event-media.js";

export interface DeleteDeps {
  nc: NatsConnection;
  log: Logger;
  feed: EventFeed;
  media: EventMedia;
}

/** True when the stored record at a sequence is about the event (so a sequence never deletes another's record). */
function isAbout(eventId: string, subject: string, data: unknown): boolean {
  if (subject.endsWith(".events.presence")) {
    const e = PresenceEvent.safeParse(data);
    return e.success && (e.data.id === eventId || e.data.startedId === eventId);
  }
  if (subject.endsWith(".events.media")) {
    const e = MediaEvent.safeParse(data);
    return e.success && e.data.eventId === eventId;
  }
  return false;
}

/**
 * Deletes an event: its snapshot and clip, then an `EventDeleted` record on
 * `picket.<device>.events.deleted` (so other web replicas and later starts drop it, and media
 * that arrive late are removed), then the stream's records about it, by the sequences the
 * index recorded (each checked first). Returns false when the index does not hold the event.
 * Throws when the bus fails; a retry finishes the job.
 */
export async function deleteEvent(deps: DeleteDeps, eventId: string, by: string): Promise<boolean> {
  const entry = deps.feed.index.get(eventId);
  if (entry === undefined) return false;
  const seqs = deps.feed.index.sequences(eventId);
  await deps.media.delete(eventId, entry.device);
  const record: EventDeleted = {
    id: `${Date.now().toString(36)}-${randomBytes(6).toString("base64url")}`,
    kind: "deleted",
    device: entry.device,
    eventId,
    at: Date.now(),
    by: by.slice(0, 64),
  };
  const ack = await jetstream(deps.nc).publish(subjects.event(entry.device, "deleted"), JSON.stringify(EventDeleted.parse(record)), { msgID: record.id, timeout: 5_000 });
  deps.feed.apply(record, ack.seq);
  const jsm = await jetstreamManager(deps.nc);
  let removed = 0;
  for (const seq of seqs) {
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    let data: unknown;
    try {
      data = stored?.json();
    } catch {
      data = undefined;
    }
    if (stored === null || !isAbout(eventId, stored.subject, data)) continue;
    if (await jsm.streams.deleteMessage(EVENTS_STREAM, seq)) removed++;
  }
  deps.log.child({ module: "events" }).info({ eventId, device: entry.device, by, records: removed }, "event deleted");
  return true;
}
