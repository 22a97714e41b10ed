import type { PresenceEvent } from "@picket/contracts";
import type { Logger } from "@picket/runtime";
import { alertCaption, withoutPhoto } from "./caption.js";
import { photoProblem } from "./photo-limits.js";
import { JobDropped, type ChatOutbox } from "./chat-outbox.js";
import type { DeliveryLog } from "./delivery-log.js";
import type { Snapshot } from "./snapshot-client.js";
import { isTelegramCallError, toTelegramCallError } from "./telegram-errors.js";

/** What delivery needs from the outside world; each send throws on failure. */
export interface AlertPorts {
  /** The alert's picture: the event's trigger frame when the camera stored one, else a fresh still. */
  photo(event: PresenceEvent, signal: AbortSignal): Promise<Snapshot>;
  /** Each send resolves with the id of the message it created (the clip replies to it); `silent`: without sound. */
  /** `device`: the camera the alert is about (its buttons act on it). */
  sendPhoto(chatId: number, jpeg: Buffer, caption: string, signal: AbortSignal, silent: boolean, device: string): Promise<number | undefined>;
  sendText(chatId: number, text: string, signal: AbortSignal, silent: boolean): Promise<number | undefined>;
}

/** How one alert goes out. */
export interface DeliverOptions {
  /** Arrives without sound in every chat (the notification settings: silent, or quiet hours). */
  silent?: boolean;
}

/** How an event's clip goes to one chat: the video, or a note that it cannot; `replyTo` is the alert's message. */
export type ClipSend = (chat: number, replyTo: number | undefined, signal: AbortSignal) => Promise<unknown>;

/** How an alert went, once every chat has it or refused it for good. */
export interface DeliveryOutcome {
  /** Chats sent to now. */
  sentTo: number[];
  /** Chats that had it already (a redelivery, e.g. after a restart mid-delivery). */
  already: number[];
  /** Chats that refused it for good (the bot was blocked or removed). */
  gaveUp: number[];
  /** Whether it went as a photo (else as text saying why there is none). */
  photo: boolean;
}

export interface AlertDeliveryOptions {
  ports: AlertPorts;
  outbox: ChatOutbox;
  record: DeliveryLog;
  /** Whether a chat is still paired: an alert stuck for an unpaired chat is dropped. */
  isPaired: (chat: number) => boolean;
  log: Logger;
  timeZone?: string;
  /** The wall clock (an alert's caption says how late it goes out). */
  now?: () => number;
}

/**
 * Sends each alert once to each paired chat. {@link deliver} queues the alert in every chat's
 * queue at once, so chats see alerts in event order; it resolves when each chat has it or
 * refused it for good. The delivery record (durable) says which chats have it, so a
 * redelivery, even to a restarted bot, sends only to those still missing it.
 */
export class AlertDelivery {
  private readonly inFlight = new Map<string, Promise<DeliveryOutcome>>();

  constructor(private readonly opts: AlertDeliveryOptions) {}

  /** Alerts queued or being sent. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Whether the alert of `eventId` is queued or being sent here. */
  isPending(eventId: string): boolean {
    return this.inFlight.has(eventId);
  }

  /**
   * Queues the alert for `chats`; call in event order (the queueing happens before this
   * returns). Resolves when done; rejects with JobDropped when the bot stops first. A
   * redelivery while the alert is still on its way joins that one, with its options.
   */
  deliver(event: PresenceEvent, chats: readonly number[], signal: AbortSignal, options: DeliverOptions = {}): Promise<DeliveryOutcome> {
    const silent = options.silent === true;
    const running = this.inFlight.get(event.id);
    if (running !== undefined) return running;
    const { ports, log, record } = this.opts;
    let picture: Promise<Snapshot> | undefined;
    // Taken once, when the first chat needs it, so every chat sees the same picture.
    const photo = () =>
      (picture ??= ports.photo(event, signal).then((p) => {
        if (!p.ok) log.warn({ eventId: event.id, reason: p.reason }, "no photo for the alert; sending text");
        return p;
      }));
    let sentPhoto = false;
    const outcome: DeliveryOutcome = { sentTo: [], already: [], gaveUp: [], photo: false };
    const jobs = [...new Set(chats)].map((chat) =>
      this.opts.outbox
        .enqueue(chat, {
          label: `alert ${event.id}`,
          priority: 0,
          wanted: () => this.opts.isPaired(chat),
          run: async (s) => {
            const had = (await record.get(event.id))?.chats[String(chat)];
            if (had?.msg !== undefined || had?.gaveUp === true) return "already" as const;
            const p = await photo();
            // Made at each attempt: an alert Telegram could not take for a while says how late it is.
            const id = await this.send(event, chat, p, alertCaption(event, this.opts.timeZone, (this.opts.now ?? Date.now)()), s, silent);
            sentPhoto ||= id.photo;
            await record.update(event.id, (r) => (r.chats[String(chat)] = { msg: id.messageId ?? 0 }));
            return "sent" as const;
          },
        })
        .then(
          (r) => (r === "sent" ? outcome.sentTo : outcome.already).push(chat),
          async (e: unknown) => {
            if (e instanceof JobDropped && e.reason === "stopping") throw e;
            // The bot itself cannot send (token revoked): not this chat's refusal; the event stays for later.
            if (isTelegramCallError(e) && e.kind === "fatal") throw e;
            if (e instanceof JobDropped) {
              log.info({ eventId: event.id, chat }, "chat unpaired while its alert waited; dropped");
              outcome.gaveUp.push(chat);
              return;
            }
            log.error({ err: toTelegramCallError("sendPhoto", e), eventId: event.id, chat }, "Telegram refused the alert for this chat; giving up on it");
            outcome.gaveUp.push(chat);
            await record.update(event.id, (r) => (r.chats[String(chat)] = { gaveUp: true }));
          },
        ),
    );
    const done = Promise.all(jobs).then(() => ({ ...outcome, photo: sentPhoto }));
    this.inFlight.set(event.id, done);
    const forget = () => this.inFlight.delete(event.id);
    done.then(forget, forget);
    return done;
  }

  /**
   * Where the alert of `eventId` went: its message in each chat that has it (waiting while
   * it is being sent); `snoozed` when it was held back; undefined when unknown here.
   */
  async alertMessages(eventId: string): Promise<Map<number, number> | "snoozed" | undefined> {
    await this.inFlight.get(eventId)?.catch(() => undefined);
    const rec = await this.opts.record.get(eventId);
    if (rec === undefined) return undefined;
    if (rec.snoozed === true) return "snoozed";
    const out = new Map<number, number>();
    for (const [chat, d] of Object.entries(rec.chats)) if (d.msg !== undefined && d.gaveUp !== true) out.set(Number(chat), d.msg);
    return out;
  }

  /**
   * Sends an event's clip (or the note standing for it) to each chat in `messages` (the
   * alert's message there, which it replies to) that does not have it yet; after the chat's earlier alerts, before its later
   * clips. A chat that keeps failing gets `maxTries`. Resolves with the chats that got it now;
   * rejects with JobDropped when the bot stops first.
   */
  async deliverClip(eventId: string, messages: ReadonlyMap<number, number>, send: ClipSend, maxTries: number): Promise<number[]> {
    const { log, record } = this.opts;
    const sent: number[] = [];
    const clipDone = (chat: number) => record.update(eventId, (r) => ((r.chats[String(chat)] ??= {}).clip = true));
    const jobs = [...messages].map(([chat, replyTo]) =>
      this.opts.outbox
        .enqueue(chat, {
          label: `clip ${eventId}`,
          priority: 1,
          maxTries,
          wanted: () => this.opts.isPaired(chat),
          run: async (s) => {
            if ((await record.get(eventId))?.chats[String(chat)]?.clip === true) return false;
            await send(chat, replyTo > 0 ? replyTo : undefined, s);
            await clipDone(chat);
            return true;
          },
        })
        .then(
          (fresh) => {
            if (fresh) sent.push(chat);
          },
          async (e: unknown) => {
            if (e instanceof JobDropped && e.reason === "stopping") throw e;
            if (isTelegramCallError(e) && e.kind === "fatal") throw e;
            log.error({ err: e instanceof JobDropped ? e.message : toTelegramCallError("sendVideo", e), eventId, chat }, "giving up on this clip for this chat");
            await clipDone(chat);
          },
        ),
    );
    await Promise.all(jobs);
    return sent;
  }

  /** Remembers that an alert was held back by a snooze, so its clip is not sent either. */
  snoozed(eventId: string): Promise<void> {
    return this.opts.record.update(eventId, (r) => (r.snoozed = true));
  }

  /** Sends to one chat; a photo the API refuses for good (a bad picture) is replaced by text. */
  private async send(event: { id: string; device: string }, chat: number, photo: Snapshot, caption: string, signal: AbortSignal, silent: boolean): Promise<{ messageId: number | undefined; photo: boolean }> {
    const eventId = event.id;
    const { ports, log } = this.opts;
    const tooBig = photo.ok ? photoProblem(photo.jpeg) : undefined;
    if (tooBig !== undefined) return { messageId: await ports.sendText(chat, withoutPhoto(caption, tooBig), signal, silent), photo: false };
    if (!photo.ok) return { messageId: await ports.sendText(chat, withoutPhoto(caption, photo.reason), signal, silent), photo: false };
    try {
      return { messageId: await ports.sendPhoto(chat, photo.jpeg, caption, signal, silent, event.device), photo: true };
    } catch (e) {
      const err = toTelegramCallError("sendPhoto", e);
      // 403 (blocked, kicked) refuses text too; a 400 may be about the picture.
      if (err.kind !== "rejected" || err.code === 403) throw err;
      log.warn({ err, eventId, chat }, "Telegram refused the photo; sending text instead");
      return { messageId: await ports.sendText(chat, withoutPhoto(caption, `Telegram refused it: ${err.description}`), signal, silent), photo: false };
    }
  }
}
