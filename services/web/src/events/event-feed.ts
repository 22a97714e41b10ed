import { setTimeout as sleep } from "node:timers/promises";
import { EVENTS_STREAM, EventDeleted, MediaEvent, PresenceEvent, decodeJson, isDecodeError, parseSubject } from "@picket/contracts";
import { Backoff, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg, type Logger, type NatsConnection } from "@picket/runtime";
import { EventIndex, type IndexChange, type StoredEvent } from "./event-index.js";
import { openEventMedia, type EventMedia } from "./event-media.js";

export interface EventFeedDeps {
  nc: NatsConnection;
  log: Logger;
  /** Entries kept in memory (default 20,000); past this the oldest are dropped. */
  maxEntries?: number;
  /** Where late media of deleted events are removed (default: the media bucket). */
  media?: EventMedia;
}

export type ChangeListener = (change: IndexChange) => void;

/** The events timeline, read from the events stream and kept up to date. */
export interface EventFeed {
  readonly index: EventIndex;
  /** Resolves once the events stored before the start are read; never rejects (it keeps trying). */
  readonly ready: Promise<void>;
  /** Calls `listener` for each new, changed or deleted entry; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void;
  /** Folds a record this process stored itself (at `seq`) in at once, before the feed reads it back. */
  apply(event: StoredEvent, seq: number): void;
  /** Stops reading; the index stays as it was. */
  stop(): Promise<void>;
}

const schemas = { presence: PresenceEvent, media: MediaEvent, deleted: EventDeleted } as const;

/**
 * Reads the events stream from its first record with an ordered consumer, then follows it
 * live, folding every record into an EventIndex. The ordered consumer resumes after a
 * broker restart; should the consumer give up, reading starts again after the last record
 * read. A stream made anew (a broker that lost its store) is read again from the start. A
 * malformed record is logged and skipped; a record of an unknown kind is skipped.
 */
export function startEventFeed(deps: EventFeedDeps): EventFeed {
  const { nc } = deps;
  const log = deps.log.child({ module: "event-feed" });
  const index = new EventIndex({ maxEntries: deps.maxEntries ?? 20_000 });
  const media = deps.media ?? openEventMedia(nc);
  const listeners = new Set<ChangeListener>();
  const stopping = new AbortController();
  let messages: ConsumerMessages | undefined;
  let lastSeq = 0;
  let streamCreated: string | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = () => {
      resolve();
      markReady = () => undefined;
    };
  });

  const emit = (changes: IndexChange[]) => {
    for (const c of changes) {
      for (const l of listeners) {
        try {
          l(c);
        } catch (err) {
          log.error({ err }, "event listener failed");
        }
      }
    }
  };

  const decode = (m: JsMsg): StoredEvent | undefined => {
    const kind = parseSubject(m.subject)?.rest[1];
    if (kind !== "presence" && kind !== "media" && kind !== "deleted") {
      log.debug({ subject: m.subject, seq: m.seq }, "skipped a record of another kind");
      return undefined;
    }
    try {
      const event = decodeJson(schemas[kind], m.data, m.subject);
      if (event.device !== parseSubject(m.subject)?.device) throw new Error(`record of device "${event.device}" on another device's subject`);
      return event;
    } catch (err) {
      const reason = isDecodeError(err) ? err.reason : (err as Error).message;
      log.warn({ subject: m.subject, seq: m.seq, reason, payload: { bytes: m.data.length, head: Buffer.from(m.data.subarray(0, 64)).toString("base64") } }, "skipped a malformed event record");
      return undefined;
    }
  };

  /** Media stored after their event was deleted (a clip still recording then): removed as well. */
  const dropLateMedia = async (event: MediaEvent, seq: number) => {
    await media.delete(event.eventId, event.device);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.deleteMessage(EVENTS_STREAM, seq).catch((err: unknown) => log.debug({ err, seq }, "record already gone"));
    log.info({ eventId: event.eventId, media: event.media }, "removed media that arrived after their event was deleted");
  };

  const handle = (m: JsMsg) => {
    lastSeq = m.seq;
    const event = decode(m);
    if (event !== undefined) {
      emit(index.apply(event, m.seq));
      if (event.kind === "media" && index.wasDeleted(event.eventId)) {
        dropLateMedia(event, m.seq).catch((err: unknown) => log.warn({ err, eventId: event.eventId }, "could not remove media of a deleted event"));
      }
    }
    if (m.info.pending === 0) markReady();
  };

  /** Compares the stream with the one being read; a new one is read from the start. */
  const checkStream = async (): Promise<boolean> => {
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM);
    const same = streamCreated === undefined || info.created === streamCreated;
    if (!same) {
      log.warn({ entries: index.size }, "the events stream was made anew (the broker lost its store); reading it again from the start");
      index.clear();
      lastSeq = 0;
    }
    streamCreated = info.created;
    if (info.state.messages === 0 || info.state.last_seq <= lastSeq) markReady();
    return same;
  };

  const watch = async (msgs: ConsumerMessages) => {
    for await (const s of msgs.status()) {
      if (s.type === "stream_not_found") {
        log.warn("the events stream is gone; waiting for it");
        await msgs.close();
      } else if (s.type === "ordered_consumer_recreated" && !(await checkStream().catch(() => true))) {
        await msgs.close();
      }
    }
  };

  const run = async () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    let waitingForStream = false;
    while (!stopping.signal.aborted) {
      try {
        // The presence service makes the stream (it writes to it); a reader only waits for it.
        await checkStream();
        const start = lastSeq === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 };
        const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, start);
        const msgs = await consumer.consume({ max_messages: 256 });
        messages = msgs;
        // Not awaited: a close completes only once the loop below takes it from the iterator.
        if (stopping.signal.aborted) void msgs.close();
        watch(msgs).catch((err: unknown) => log.debug({ err }, "consumer status ended"));
        log.info({ fromSeq: lastSeq + 1 }, "reading the events stream");
        waitingForStream = false;
        for await (const m of msgs) {
          handle(m);
          backoff.reset();
        }
      } catch (err) {
        if (stopping.signal.aborted) break;
        if (err instanceof Error && /stream not found/i.test(err.message)) {
          // A fresh install, or a broker that lost its store: nothing to show until the first event.
          if (!waitingForStream) log.info("no events stream yet; the timeline starts with the first event");
          waitingForStream = true;
          markReady();
        } else log.warn({ err }, "reading the events stream failed; trying again");
      }
      if (stopping.signal.aborted) break;
      // Waiting for a stream that is not there yet: look often, so the first event shows at once.
      const delay = waitingForStream ? Math.min(backoff.next(), 1_000) : backoff.next();
      // Aborted by stop(): the listener goes with the timer, so waits do not pile them up.
      await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  };
  const loop = run();

  return {
    index,
    ready,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    apply(event, seq) {
      emit(index.apply(event, seq));
    },
    async stop() {
      stopping.abort();
      await messages?.close().catch(() => undefined);
      await loop;
      listeners.clear();
    },
  };
}
