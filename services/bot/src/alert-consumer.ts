import { EVENTS_STREAM, decodeJson, isDecodeError, parseSubject, subjects } from "@picket/contracts";
import type { z } from "zod";
import {
  AckPolicy,
  DeliverPolicy,
  ensureEventsStream,
  jetstreamManager,
  reportBadMessage,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
  type Logger,
  type NatsConnection,
  type ServiceMetrics,
} from "@picket/runtime";
import { sharedUpdateLock, type UpdateLock } from "./update-lock.js";

/** What to do with an event once handled. */
export type AlertDecision = { ack: true } | { ack: false; delayMs: number };

export interface AlertConsumerDeps<E extends { id: string; device: string }> {
  nc: NatsConnection;
  device: string;
  log: Logger;
  metrics: ServiceMetrics;
  /** The events taken: `picket.<device>.events.<kind>`, each checked against `schema`. */
  kind: string;
  /** `fleet`: every device's events of this kind (a hub's bot), not just `device`'s. */
  scope?: "device" | "fleet";
  schema: z.ZodType<E>;
  /**
   * Handles one event; `signal` aborts when the service stops. With `concurrency` above 1
   * the next events are handed over while earlier ones are still being handled (each call
   * starts in stream order, so a handler that queues before its first await keeps the order).
   */
  handle: (event: E, signal: AbortSignal) => Promise<AlertDecision>;
  /** Events handled at once; 1 (the default) handles them one after another. */
  concurrency?: number;
  /** Held while an event is handled, so a balena update waits for the alert (default: balena's lock, shared by the process). */
  updateLock?: UpdateLock;
}

/**
 * How long the server waits for an ack before redelivering; kept alive with `working()` while
 * sending. It is also how long an alert taken by a bot replica that died waits for the next.
 */
const ACK_WAIT_MS = 15_000;
const NS_PER_MS = 1_000_000;

/**
 * A durable JetStream pull consumer of this device's presence events. The durable name
 * carries the device, so bots of several devices can share one hub's stream. It starts at
 * the first event stored after its creation and, being durable, resumes where it left off
 * after a restart or a broker outage: an event is acked only after the handler says so.
 * A malformed event is logged, counted and terminated so it never blocks the queue.
 */
export function createAlertConsumer<E extends { id: string; device: string }>(deps: AlertConsumerDeps<E>) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: deps.kind === "presence" ? "alerts" : `alerts-${deps.kind}` });
  const fleet = deps.scope === "fleet";
  const durable = deps.kind === "presence" && !fleet ? `bot-alerts-${device}` : `bot-${deps.kind}-${fleet ? "fleet" : device}`;
  const filter = subjects.event(fleet ? "*" : device, deps.kind);
  const stopping = new AbortController();
  let js: JetStreamClient | undefined;
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let inFlight = 0;
  const handling = new Set<Promise<void>>();
  const concurrency = Math.max(1, deps.concurrency ?? 1);
  const updateLock = deps.updateLock ?? sharedUpdateLock(deps.log);
  // When this consumer last certainly had everything before: made, or the stored time of the
  // last event it took. A consumer made again after a loss starts from here, so an event
  // stored meanwhile (by a pir that noticed the empty store first) is not skipped.
  let caughtUpTo = new Date();

  let closing = false;
  const process = async (m: JsMsg): Promise<void> => {
    if (closing) {
      // Taken from the buffer after close: for the next bot, at once.
      m.nak();
      return;
    }
    caughtUpTo = m.time;
    let event: E;
    try {
      event = decodeJson(deps.schema, m.data, m.subject);
      // An event speaks for the device whose subject it came on (a device may publish only in its own name).
      const from = parseSubject(m.subject)?.device;
      if (event.device !== from || (!fleet && event.device !== device)) throw new Error(`event of device "${event.device}" on the subject of "${from ?? "?"}"`);
    } catch (err) {
      reportBadMessage({ log, metrics: deps.metrics }, filter, m, isDecodeError(err) ? err : String(err));
      m.term("malformed event");
      return;
    }
    // Long uploads must not let the ack deadline pass and cause a duplicate delivery.
    const keepAlive = setInterval(() => m.working(), ACK_WAIT_MS / 3);
    inFlight++;
    try {
      const decision = await updateLock.hold(() => deps.handle(event, stopping.signal));
      if (decision.ack) m.ack();
      else m.nak(stopping.signal.aborted ? 0 : decision.delayMs);
    } catch (err) {
      log.error({ err, eventId: event.id }, "alert handler failed; will retry");
      m.nak(stopping.signal.aborted ? 0 : 5_000);
    } finally {
      inFlight--;
      clearInterval(keepAlive);
    }
  };

  /** Makes the stream and the durable consumer, or updates the consumer. A new consumer starts at the next event, or (after a loss) where this one was caught up to. */
  const ensure = async (from: "new" | "by_start_time"): Promise<void> => {
    js = await ensureEventsStream(nc);
    const jsm = await jetstreamManager(nc);
    const settings = { description: "Telegram alerts of the bot service", filter_subject: filter, ack_wait: ACK_WAIT_MS * NS_PER_MS, max_deliver: -1, max_ack_pending: Math.max(100, concurrency) };
    try {
      await jsm.consumers.info(EVENTS_STREAM, durable);
      await jsm.consumers.update(EVENTS_STREAM, durable, settings);
    } catch (err) {
      if (!(err instanceof Error && /not found/i.test(err.message))) throw err;
      const start = from === "by_start_time" ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(caughtUpTo.getTime() - 1_000).toISOString() } : { deliver_policy: DeliverPolicy.New };
      await jsm.consumers.add(EVENTS_STREAM, { ...settings, durable_name: durable, ack_policy: AckPolicy.Explicit, ...start });
    }
    log.info({ durable, subject: filter }, "alert consumer ready");
  };

  return {
    durable,
    /** Creates the stream and the durable consumer (or updates it), so events are kept for the bot from now on. */
    async prepare(): Promise<void> {
      await ensure("new");
    },
    /** Starts taking events, in order. */
    async start(): Promise<void> {
      if (js === undefined) throw new Error("prepare() first");
      const client = js;
      let recreating = false;
      const run = async (): Promise<void> => {
        const consumer = await client.consumers.get(EVENTS_STREAM, durable);
        // Few buffered: a buffered event's ack deadline runs while another alert is being sent.
        const msgs = await consumer.consume({ max_messages: 2 });
        messages = msgs;
        void (async () => {
          for await (const s of msgs.status()) {
            if ((s.type === "consumer_not_found" || s.type === "consumer_deleted" || s.type === "stream_not_found") && !recreating) {
              // A NATS server that came back with an empty store: make the stream and the
              // consumer again, and consume afresh (the old pull does not pick up a new consumer).
              recreating = true;
              log.warn({ status: s.type }, "alert consumer missing; creating it again");
              try {
                await ensure("by_start_time");
                await msgs.close();
                loop = run();
                loop.catch((err: unknown) => log.error({ err }, "alert consumer stopped"));
              } catch (err) {
                log.warn({ err }, "could not create the alert consumer yet; the client keeps trying");
              } finally {
                recreating = false;
              }
            } else if (s.type === "heartbeats_missed") {
              log.warn({ status: s.type }, "alert consumer trouble; the client keeps trying");
            }
          }
        })().catch((err: unknown) => log.debug({ err }, "consumer status ended"));
        for await (const m of msgs) {
          if (concurrency === 1) {
            await process(m);
            continue;
          }
          while (handling.size >= concurrency) await Promise.race(handling);
          const p = process(m);
          handling.add(p);
          void p.finally(() => handling.delete(p));
        }
      };
      loop = run();
      loop.catch((err: unknown) => log.error({ err }, "alert consumer stopped"));
    },
    /**
     * Stops taking events, before the handlers are cancelled: an event they give back (nak)
     * then goes to the next bot, not back into this one's buffer.
     */
    async close(): Promise<void> {
      closing = true;
      await messages?.close();
    },
    /** Stops taking events; those in flight are cancelled and nak'ed so they are redelivered at once. */
    async stop(): Promise<void> {
      closing = true;
      stopping.abort(new Error("service stopping"));
      await messages?.close();
      await loop?.catch(() => undefined);
      await Promise.allSettled([...handling]);
    },
    get inFlight(): number {
      return inFlight;
    },
  };
}

export type AlertConsumer<E extends { id: string; device: string } = { id: string; device: string }> = ReturnType<typeof createAlertConsumer<E>>;
