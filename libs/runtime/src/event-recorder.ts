import { subjects } from "@picket/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { Backoff } from "./backoff.js";
import { isOutboxFullError, type EventOutbox } from "./outbox.js";

// The outbox is the recorder's (optional) durable half: exported with it.
export { DEFAULT_OUTBOX_MAX_EVENTS, EventOutbox, OutboxFullError, isOutboxFullError, parseOutbox, type OutboxEvent, type OutboxOptions } from "./outbox.js";

/** What every durable event has: stored on `picket.<device>.events.<kind>` with its id as message id. */
export interface StorableEvent {
  id: string;
  device: string;
  kind: string;
}

/** Where a queued event is kept until the bus has it. */
type Keeping = "outbox" | "memory" | "refused";

interface Entry<E> {
  event: E;
  payload: string;
  done: (ok: boolean) => void;
  since: number;
  /** Settles once the event is in the outbox (or known not to be). */
  kept: Promise<Keeping>;
}

/**
 * Writes events to JetStream in order, retrying with backoff until the server acknowledges
 * each one. The event id is the JetStream message id, so a retry after a lost ack is stored
 * once. Anything else reacts to the stored event, never to this process.
 *
 * With an {@link EventOutbox}, each event is written there (durably) before it is published
 * and acked there once stored, and {@link resume} publishes what an earlier run left in it:
 * events survive a crash or a power cut during a broker outage. A full outbox refuses the
 * newest event (logged); an outbox that cannot be written leaves the event in memory only.
 */
export class EventRecorder<E extends StorableEvent> {
  private queue: Entry<E>[] = [];
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private kick: (() => void) | undefined;

  /**
   * @param validate checks an event against its schema before it is stored (throws if bad).
   * @param recover re-creates the stream; called when the server answers that it has none
   *   (a NATS server that came back with an empty store).
   */
  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly validate: (event: E) => E,
    private readonly recover: () => Promise<unknown> = async () => undefined,
    private readonly backoff = new Backoff({ initialMs: 200, maxMs: 5_000 }),
    private readonly outbox?: EventOutbox<E>,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** How long the oldest event has waited to be stored, ms (0 when none waits). */
  oldestPendingMs(now = Date.now()): number {
    const head = this.queue[0];
    return head === undefined ? 0 : now - head.since;
  }

  /**
   * Resolves true once stored, false if the service stops first (with an outbox, the event
   * is then stored at the next start), if the outbox is full, if the event does not match
   * its schema, or if the recorder was stopped (each logged; the last three are never stored).
   */
  record(event: E): Promise<boolean> {
    if (this.stopped) {
      this.log.error({ eventId: event.id, kind: event.kind }, "event raised while stopping: not stored");
      return Promise.resolve(false);
    }
    let valid: E;
    try {
      valid = this.validate(event);
    } catch (err) {
      this.log.error({ err, eventId: event.id, kind: event.kind }, "event refused: it does not match its schema");
      return Promise.resolve(false);
    }
    return new Promise((resolve) => this.enqueue(valid, resolve, this.keep(valid)));
  }

  /**
   * Queues what the outbox still holds from an earlier run, oldest first, ahead of anything
   * recorded after; call once, before the first {@link record}. Returns how many.
   */
  resume(): number {
    const held = this.outbox?.events() ?? [];
    let queued = 0;
    for (const e of held) {
      let valid: E;
      try {
        valid = this.validate(e);
      } catch (err) {
        this.log.error({ err, eventId: e.id }, "event in the outbox does not match its schema: dropped");
        void this.outbox?.ack(e.id).catch(() => undefined);
        continue;
      }
      this.enqueue(valid, () => undefined, Promise.resolve("outbox"));
      queued++;
    }
    if (queued > 0) this.log.info({ events: queued, oldestId: held[0]?.id }, "publishing the events the outbox kept from an earlier run");
    return queued;
  }

  private enqueue(event: E, done: (ok: boolean) => void, kept: Promise<Keeping>): void {
    this.queue.push({ event, payload: JSON.stringify(event), done, since: Date.now(), kept });
    if (!this.running) void this.drain();
  }

  /** Writes the event to the outbox, if there is one; settles with where it is kept. */
  private keep(event: E): Promise<Keeping> {
    const outbox = this.outbox;
    if (outbox === undefined) return Promise.resolve("memory");
    return outbox.append(event).then(
      () => "outbox" as const,
      (err: unknown) => {
        if (isOutboxFullError(err)) {
          this.log.error({ eventId: event.id, kind: event.kind, maxEvents: err.maxEvents }, "outbox full: event refused (the oldest are kept until the bus takes them)");
          return "refused" as const;
        }
        this.log.error({ err, eventId: event.id, file: outbox.file }, "could not write the event to the outbox: it is kept in memory only until stored");
        return "memory" as const;
      },
    );
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0] as Entry<E>;
      const kept = await head.kept;
      if (this.stopped) break;
      if (kept === "refused") {
        this.queue.shift();
        head.done(false);
        continue;
      }
      try {
        const attempt = this.js.publish(subjects.event(head.event.device, head.event.kind), head.payload, {
          msgID: head.event.id,
          timeout: 5_000,
        });
        // An attempt given up for a fresh one (retryNow) may still fail later: nobody waits for it.
        attempt.catch(() => undefined);
        const ack = await Promise.race([attempt, new Promise<"again">((resolve) => (this.kick = () => resolve("again")))]);
        this.kick = undefined;
        if (ack === "again") {
          this.log.info({ eventId: head.event.id, pending: this.queue.length }, "the bus is back: publishing again at once");
          continue;
        }
        this.queue.shift();
        this.backoff.reset();
        this.log.info({ eventId: head.event.id, kind: head.event.kind, seq: ack.seq, duplicate: ack.duplicate }, `${head.event.kind} event recorded`);
        if (kept === "outbox") await this.outbox?.ack(head.event.id).catch((err: unknown) => this.log.warn({ err, eventId: head.event.id }, "could not drop a stored event from the outbox; a restart publishes it again (stored once)"));
        head.done(true);
      } catch (err) {
        const delay = this.backoff.next();
        this.log.warn({ err, eventId: head.event.id, retryInMs: delay, pending: this.queue.length }, "event not stored yet; retrying");
        // No stream answers: "no responders", or a timeout when plain subscribers (the camera)
        // listen on the subject too. Making sure the stream exists is harmless either way.
        if (err instanceof Error && /no responders|stream not found|not enabled|timeout/i.test(err.message)) {
          await this.recover().then(
            () => this.log.warn("the events stream was missing; created it again"),
            (e: unknown) => this.log.warn({ err: e }, "could not create the events stream yet"),
          );
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
    this.running = false;
  }

  /**
   * The bus is back (a reconnect): tries the oldest event again now, rather than after the
   * backoff or the timeout of an attempt made while the bus was away (a publish sent then may
   * never be answered). A repeat is stored once: the event id is the message id.
   */
  retryNow(): void {
    if (this.queue.length === 0) return;
    this.backoff.reset();
    this.kick?.();
    this.wake?.();
  }

  /** Stops publishing; what is queued is given up (false), except what the outbox keeps for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const queued = this.queue;
    this.queue = [];
    for (const { event, done, kept } of queued) {
      if ((await kept) === "outbox") this.log.warn({ eventId: event.id }, "stopping with an event not yet stored: the outbox keeps it for the next start");
      else this.log.error({ eventId: event.id }, "stopping with an event not yet stored");
      done(false);
    }
    await this.outbox?.close();
  }
}
