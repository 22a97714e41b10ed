import { subjects } from "@picket/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { Backoff } from "./backoff.js";

/** What every durable event has: stored on `picket.<device>.events.<kind>` with its id as message id. */
export interface StorableEvent {
  id: string;
  device: string;
  kind: string;
}

/**
 * Writes events to JetStream in order, retrying with backoff until the server acknowledges
 * each one. The event id is the JetStream message id, so a retry after a lost ack is stored
 * once. Anything else reacts to the stored event, never to this process.
 */
export class EventRecorder<E extends StorableEvent> {
  private queue: { event: E; done: (ok: boolean) => void; since: number }[] = [];
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;

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
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** How long the oldest event has waited to be stored, ms (0 when none waits). */
  oldestPendingMs(now = Date.now()): number {
    const head = this.queue[0];
    return head === undefined ? 0 : now - head.since;
  }

  /** Resolves true once stored, false if the service stops first. */
  record(event: E): Promise<boolean> {
    return new Promise((resolve) => {
      this.queue.push({ event, done: resolve, since: Date.now() });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0] as (typeof this.queue)[number];
      try {
        const ack = await this.js.publish(subjects.event(head.event.device, head.event.kind), JSON.stringify(this.validate(head.event)), {
          msgID: head.event.id,
          timeout: 5_000,
        });
        this.queue.shift();
        this.backoff.reset();
        this.log.info({ eventId: head.event.id, kind: head.event.kind, seq: ack.seq, duplicate: ack.duplicate }, `${head.event.kind} event recorded`);
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

  stop(): void {
    this.stopped = true;
    this.wake?.();
    for (const { event, done } of this.queue) {
      this.log.error({ eventId: event.id }, "stopping with an event not yet stored");
      done(false);
    }
    this.queue = [];
  }
}
