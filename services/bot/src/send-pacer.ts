/**
 * Telegram's send limits, kept on our side so the bot is never throttled mid-alert: about one
 * message a second to a chat, 20 a minute to a group, 30 a second in all; and after a 429,
 * nothing to that chat until Telegram's `retry_after` has passed. Pure: time is passed in
 * (monotonic ms), nothing is awaited here.
 */
export interface PacerLimits {
  /** Least time between two sends to one chat, ms. */
  perChatMs: number;
  /** Sends to one group (negative chat id) in any 60 s. */
  perGroupPerMinute: number;
  /** Sends to all chats in any 1 s. */
  globalPerSecond: number;
}

/** Chats remembered before idle ones are forgotten. */
const MAX_CHATS = 1_000;

export const TELEGRAM_LIMITS: PacerLimits = { perChatMs: 1_000, perGroupPerMinute: 20, globalPerSecond: 30 };

interface ChatSlots {
  /** When the last send to this chat was reserved. */
  last: number;
  /** Reserved send times within the last minute (groups only). */
  minute: number[];
  /** No send before this (a 429's retry_after). */
  pausedUntil: number;
}

export class SendPacer {
  private readonly chats = new Map<number, ChatSlots>();
  private global: number[] = [];

  constructor(private readonly limits: PacerLimits = TELEGRAM_LIMITS) {}

  /**
   * Reserves the earliest time, at or after `now`, at which `count` messages (an album counts
   * each of its items) may go to `chat`, and returns it. Calls for one chat are expected in
   * the order its sends happen.
   */
  reserve(chat: number, now: number, count = 1): number {
    const slots = this.slots(chat);
    let at = Math.max(now, slots.pausedUntil, slots.last === -Infinity ? now : slots.last + this.limits.perChatMs);
    if (chat < 0) {
      slots.minute = slots.minute.filter((t) => t > at - 60_000);
      const over = slots.minute.length + count - this.limits.perGroupPerMinute;
      if (over > 0) at = Math.max(at, (slots.minute[over - 1] as number) + 60_000);
    }
    this.global = this.global.filter((t) => t > now - 1_000);
    for (;;) {
      const window = this.global.filter((t) => t > at - 1_000 && t <= at);
      if (window.length + count <= this.limits.globalPerSecond) break;
      at = Math.min(...window) + 1_000;
    }
    slots.last = at;
    for (let i = 0; i < count; i++) {
      if (chat < 0) slots.minute.push(at);
      this.global.push(at);
    }
    return at;
  }

  /** Telegram said to wait: nothing goes to `chat` before `until`. */
  pause(chat: number, until: number): void {
    const slots = this.slots(chat);
    slots.pausedUntil = Math.max(slots.pausedUntil, until);
  }

  /** Forgets a chat (unpaired). */
  forget(chat: number): void {
    this.chats.delete(chat);
  }

  private slots(chat: number): ChatSlots {
    let s = this.chats.get(chat);
    if (s === undefined) {
      // Strangers' chats come and go: forget chats idle for a while once there are many.
      if (this.chats.size >= MAX_CHATS) {
        const last = Math.max(...[...this.chats.values()].map((c) => c.last));
        for (const [id, c] of this.chats) if (c.last < last - 60_000 && c.pausedUntil < last) this.chats.delete(id);
      }
      s = { last: -Infinity, minute: [], pausedUntil: -Infinity };
      this.chats.set(chat, s);
    }
    return s;
  }
}
