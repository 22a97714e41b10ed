import type { PresenceEvent } from "@picket/contracts";
import { Backoff, type Logger } from "@picket/runtime";
import { alertCaption, withoutPhoto } from "./caption.js";
import type { Snapshot } from "./snapshot-client.js";
import { toTelegramCallError, type TelegramCallError } from "./telegram-errors.js";

/** What delivery needs from the outside world; each send throws on failure. */
export interface AlertPorts {
  /** The alert's picture: the event's trigger frame when the camera stored one, else a fresh still. */
  photo(event: PresenceEvent, signal: AbortSignal): Promise<Snapshot>;
  /** Each send resolves with the id of the message it created (the clip replies to it). */
  sendPhoto(chatId: number, jpeg: Buffer, caption: string, signal: AbortSignal): Promise<number | undefined>;
  sendText(chatId: number, text: string, signal: AbortSignal): Promise<number | undefined>;
}

export type DeliveryOutcome =
  /** Every chat has the alert (or refused it for good, listed in `gaveUp`): ack it. */
  | { kind: "delivered"; sentTo: number[]; gaveUp: number[]; photo: boolean }
  /** Some chats still wait: nak with `delayMs`, a redelivery sends only to `pending`. */
  | { kind: "retry"; delayMs: number; pending: number[]; error: TelegramCallError }
  /** A redelivery of an event every chat already has: ack it, send nothing. */
  | { kind: "duplicate" };

interface EventRecord {
  /** Chats that have this alert, or refused it for good. */
  done: Set<number>;
  gaveUp: Set<number>;
  /** The alert's message in each chat that got it. */
  messages: Map<number, number>;
  /** The picture this alert shows, kept so every chat sees the same one. */
  photo?: Snapshot;
  backoff: Backoff;
}

export interface AlertDeliveryOptions {
  chats: readonly number[];
  ports: AlertPorts;
  log: Logger;
  timeZone?: string;
  /** Retry delays for one event (429 waits at least Telegram's retry_after). */
  backoff?: () => Backoff;
  /** Events whose delivery is in progress that are remembered; the oldest is forgotten first. */
  maxTracked?: number;
}

/**
 * Sends one alert to every allowed chat exactly once, across redeliveries of the same
 * event: it remembers, for the last `maxTracked` events, which chats already have it (in
 * memory, so a restart may repeat an alert to a chat, but never skips one). Photo when the camera gives one, else the
 * caption as text so the alert is not lost. Sends to the chats run in parallel.
 */
export class AlertDelivery {
  private readonly records = new Map<string, EventRecord>();
  private readonly chats: readonly number[];

  constructor(private readonly opts: AlertDeliveryOptions) {
    this.chats = [...new Set(opts.chats)];
  }

  /** Events with a delivery in progress (some chats still waiting). */
  get tracked(): number {
    let n = 0;
    for (const rec of this.records.values()) if (this.chats.some((c) => !rec.done.has(c))) n++;
    return n;
  }

  /**
   * Where the alert of `eventId` went: each chat that has it and its message there; undefined
   * while the alert is still being delivered or was never sent (snoozed, forgotten).
   */
  alertMessages(eventId: string): Map<number, number> | undefined {
    const rec = this.records.get(eventId);
    if (rec === undefined || this.chats.some((c) => !rec.done.has(c))) return undefined;
    return new Map([...rec.messages].filter(([chat]) => !rec.gaveUp.has(chat)));
  }

  /** Whether the alert of `eventId` is known and some chats still wait for it. */
  isPending(eventId: string): boolean {
    const rec = this.records.get(eventId);
    return rec !== undefined && this.chats.some((c) => !rec.done.has(c));
  }

  async deliver(event: PresenceEvent, signal: AbortSignal): Promise<DeliveryOutcome> {
    const rec = this.record(event.id);
    const pending = this.chats.filter((c) => !rec.done.has(c));
    if (pending.length === 0 && rec.done.size > 0) return { kind: "duplicate" };
    if (pending.length > 0 && (rec.photo === undefined || (!rec.photo.ok && rec.done.size === 0))) {
      rec.photo = await this.opts.ports.photo(event, signal);
      if (!rec.photo.ok) this.opts.log.warn({ eventId: event.id, reason: rec.photo.reason }, "no photo for the alert; sending text");
    }
    const caption = alertCaption(event, this.opts.timeZone);
    const results = await Promise.all(pending.map((chat) => this.sendOne(event.id, chat, rec.photo as Snapshot, caption, signal, rec.messages)));
    const errors: TelegramCallError[] = [];
    for (const [i, r] of results.entries()) {
      const chat = pending[i] as number;
      if (r === "sent") rec.done.add(chat);
      else if (r === "gave-up") {
        rec.done.add(chat);
        rec.gaveUp.add(chat);
      } else errors.push(r);
    }
    const still = this.chats.filter((c) => !rec.done.has(c));
    if (still.length === 0) {
      const sentPhoto = rec.photo?.ok === true;
      // Every chat has it: the picture is never needed again (a redelivery is a duplicate); the record stays, small.
      rec.photo = undefined;
      // The record stays (bounded, oldest evicted): a redelivery of this event, e.g. after an
      // ack deadline passed while another alert was slow, is then acked without sending again.
      const gaveUp = [...rec.gaveUp];
      return { kind: "delivered", sentTo: this.chats.filter((c) => !rec.gaveUp.has(c)), gaveUp, photo: sentPhoto };
    }
    const retryAfter = Math.max(0, ...errors.map((e) => e.retryAfterMs ?? 0));
    const worst = errors.find((e) => e.retryAfterMs !== undefined) ?? (errors[0] as TelegramCallError);
    return { kind: "retry", delayMs: Math.max(retryAfter, rec.backoff.next()), pending: still, error: worst };
  }

  /** Sends to one chat; a photo the API refuses for good is replaced by text. */
  private async sendOne(eventId: string, chat: number, photo: Snapshot, caption: string, signal: AbortSignal, messages: Map<number, number>): Promise<"sent" | "gave-up" | TelegramCallError> {
    const { ports, log } = this.opts;
    try {
      const id = photo.ok ? await ports.sendPhoto(chat, photo.jpeg, caption, signal) : await ports.sendText(chat, withoutPhoto(caption, photo.reason), signal);
      if (id !== undefined) messages.set(chat, id);
      return "sent";
    } catch (e) {
      const err = toTelegramCallError(photo.ok ? "sendPhoto" : "sendMessage", e);
      if (err.kind !== "rejected") {
        log.warn({ err, eventId, chat }, "alert not sent yet; will retry");
        return err;
      }
      if (photo.ok) {
        log.warn({ err, eventId, chat }, "Telegram refused the photo; sending text instead");
        return this.sendOne(eventId, chat, { ok: false, reason: `Telegram refused it: ${err.description}` }, caption, signal, messages);
      }
      log.error({ err, eventId, chat }, "Telegram refused the alert for this chat; giving up on it");
      return "gave-up";
    }
  }

  private record(id: string): EventRecord {
    let rec = this.records.get(id);
    if (rec === undefined) {
      rec = { done: new Set(), gaveUp: new Set(), messages: new Map(), backoff: this.opts.backoff?.() ?? new Backoff({ initialMs: 500, maxMs: 60_000 }) };
      const max = this.opts.maxTracked ?? 500;
      while (this.records.size >= max) this.records.delete(this.records.keys().next().value as string);
      this.records.set(id, rec);
    }
    return rec;
  }
}
