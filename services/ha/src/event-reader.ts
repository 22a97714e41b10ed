import { setTimeout as sleep } from "node:timers/promises";
import { CameraStatusEvent, DeviceStatusEvent, EVENTS_STREAM, EventDeleted, MediaEvent, PresenceEvent, decodeJson, parseSubject, subjects } from "@picket/contracts";
import { Backoff, DeliverPolicy, ensureEventsStream, jetstream, reportBadMessage, type ConsumerMessages, type JsMsg, type Logger, type NatsConnection, type ServiceMetrics } from "@picket/runtime";
import type { BusEvent } from "./entity-states.js";

const SCHEMAS = { presence: PresenceEvent, camera: CameraStatusEvent, device: DeviceStatusEvent, media: MediaEvent, deleted: EventDeleted } as const;
type Kind = keyof typeof SCHEMAS;
const isKind = (k: string | undefined): k is Kind => k !== undefined && Object.hasOwn(SCHEMAS, k);

/**
 * Decodes one record of the events stream by the kind its subject names. Undefined for a kind
 * the bridge does not show; throws (DecodeError or Error, with a reason safe to log) for a
 * malformed record or one whose device is not its subject's.
 */
export function decodeEventRecord(subject: string, data: Uint8Array): BusEvent | undefined {
  const parsed = parseSubject(subject);
  const kind = parsed?.rest[0] === "events" ? parsed.rest[1] : undefined;
  if (!isKind(kind)) return undefined;
  const event: BusEvent = decodeJson(SCHEMAS[kind], data, subject);
  if (event.device !== parsed?.device) throw new Error(`record of device "${event.device}" on another device's subject`);
  return event;
}

export interface EventReaderDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  /** Each event in stream order: first the newest record of each subject (every device's state as it stands), then each new one. */
  onEvent: (event: BusEvent) => void;
}

/**
 * Follows the events stream of every device on the bus with an ordered consumer, which
 * resumes by itself after a broker restart. Should reading fail (a broker that lost its
 * store), it starts again from the newest record of each subject: the states it gives are
 * the same, so nothing is applied twice in effect. A malformed record is logged, counted and
 * skipped.
 */
export function startEventReader(deps: EventReaderDeps): { stop(): Promise<void> } {
  const { nc } = deps;
  const log = deps.log.child({ module: "event-reader" });
  const stopping = new AbortController();
  let messages: ConsumerMessages | undefined;

  const handle = (m: JsMsg) => {
    let event: BusEvent | undefined;
    try {
      event = decodeEventRecord(m.subject, m.data);
    } catch (err) {
      reportBadMessage({ log, metrics: deps.metrics }, subjects.eventsAll(), m, err);
      return;
    }
    if (event === undefined) {
      log.debug({ subject: m.subject, seq: m.seq }, "skipped a record of a kind the bridge does not show");
      return;
    }
    try {
      deps.onEvent(event);
    } catch (err) {
      log.error({ err, subject: m.subject, seq: m.seq }, "event handler failed");
    }
  };

  const watch = async (msgs: ConsumerMessages) => {
    for await (const s of msgs.status()) {
      if (s.type === "stream_not_found") {
        log.warn("the events stream is gone; making it again");
        await msgs.close();
      }
    }
  };

  const run = async () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    while (!stopping.signal.aborted) {
      try {
        // The presence service makes it too; a bridge that starts first must not wait for an event.
        await ensureEventsStream(nc);
        const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, { filter_subjects: subjects.eventsAll(), deliver_policy: DeliverPolicy.LastPerSubject });
        const msgs = await consumer.consume({ max_messages: 256 });
        messages = msgs;
        // Not awaited: a close completes only once the loop below takes it from the iterator.
        if (stopping.signal.aborted) void msgs.close();
        watch(msgs).catch((err: unknown) => log.debug({ err }, "consumer status ended"));
        log.info("following the events stream");
        for await (const m of msgs) {
          handle(m);
          backoff.reset();
        }
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn({ err }, "reading the events stream failed; trying again");
      }
      if (stopping.signal.aborted) break;
      await sleep(backoff.next(), undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  };
  const loop = run();

  return {
    async stop() {
      stopping.abort();
      await messages?.close().catch(() => undefined);
      await loop;
    },
  };
}
