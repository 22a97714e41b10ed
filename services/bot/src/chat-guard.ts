/**
 * Who the bot listens to. Pure: an update is acted on only when it comes from a person
 * (`from`, not a bot) in one of the allowed chats. Telegraf's `Composer.acl` lets updates
 * without `from` through, so the check is done here, on the raw update.
 */

/** Why an update was not acted on. */
export type IgnoreReason = "no-chat" | "no-sender" | "bot-sender" | "channel-post" | "unknown-chat";

export type Verdict = { allowed: true; chatId: number; fromId: number } | { allowed: false; reason: IgnoreReason; chatId?: number };

const CHANNEL_KINDS = new Set(["channel_post", "edited_channel_post"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const intId = (v: unknown): number | undefined => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);

/**
 * Decides whether to act on an update. The chat is the payload's `chat`, or for callback
 * queries the chat of the message the button sits on; the sender is the payload's `from`.
 * Updates with neither (polls, inline queries without chat, …) are ignored, and so is one
 * with more than one payload (Telegram sends one): telegraf would read its chat from
 * another payload than the one checked here.
 */
export function checkUpdate(update: unknown, allowedChats: { has(chatId: number): boolean }): Verdict {
  if (!isObj(update)) return { allowed: false, reason: "no-chat" };
  const kinds = Object.keys(update).filter((k) => k !== "update_id");
  const kind = kinds.length === 1 ? kinds[0] : undefined;
  const payload = kind === undefined ? undefined : update[kind];
  if (kind === undefined || !isObj(payload)) return { allowed: false, reason: "no-chat" };
  const nested = kind === "callback_query" && isObj(payload.message) && isObj(payload.message.chat) ? payload.message.chat : undefined;
  const chatObj = isObj(payload.chat) ? payload.chat : nested;
  const chatId = intId(chatObj?.id);
  if (CHANNEL_KINDS.has(kind)) return chatId === undefined ? { allowed: false, reason: "channel-post" } : { allowed: false, reason: "channel-post", chatId };
  if (chatId === undefined) return { allowed: false, reason: "no-chat" };
  const from = isObj(payload.from) ? payload.from : undefined;
  const fromId = intId(from?.id);
  if (fromId === undefined) return { allowed: false, reason: "no-sender", chatId };
  if (from?.is_bot === true) return { allowed: false, reason: "bot-sender", chatId };
  if (!allowedChats.has(chatId)) return { allowed: false, reason: "unknown-chat", chatId };
  return { allowed: true, chatId, fromId };
}

/** The code of a `/start CODE` (or `/start@bot CODE` in a group), or undefined for any other text. */
export function startCode(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^\/start(?:@[A-Za-z0-9_]{1,64})?\s+(\S[^\n]{0,40})$/.exec(text.trim());
  return m?.[1]?.trim();
}

/**
 * Parses `PICKET_TELEGRAM_CHATS`: comma-separated integer chat ids (groups are negative).
 * Spaces are allowed, duplicates collapse, and an empty string is an empty list. Throws a
 * RangeError naming the first entry that is not a chat id.
 */
export function parseChatList(text: string): number[] {
  if (text.trim() === "") return [];
  const out: number[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    const n = Number(item);
    if (!/^-?\d{1,16}$/.test(item) || !Number.isSafeInteger(n) || n === 0) {
      throw new RangeError(`"${item.slice(0, 24)}" is not a chat id (an integer like 123456789, or -100123456789 for a group)`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * When a stranger writes to the bot in a private chat, they get one polite refusal, then
 * silence for `everyMs`: enough to tell a lost person where they are, never a conversation
 * (nor a way to make the bot spam). Groups and channels get nothing. Bounded memory. Pure.
 */
export class RefusalLimiter {
  private readonly last = new Map<number, number>();

  private recent: number[] = [];

  constructor(
    private readonly everyMs = 3_600_000,
    private readonly maxChats = 1_000,
    /** At most this many refusals a minute in all: many strangers must not crowd out alerts. */
    private readonly perMinute = 10,
  ) {}

  /** Whether to refuse this private chat now; records the refusal if so. */
  shouldRefuse(chatId: number, now: number): boolean {
    if (chatId <= 0) return false;
    const prev = this.last.get(chatId);
    if (prev !== undefined && now - prev < this.everyMs) return false;
    this.recent = this.recent.filter((t) => now - t < 60_000);
    if (this.recent.length >= this.perMinute) return false;
    this.recent.push(now);
    this.last.delete(chatId);
    this.last.set(chatId, now);
    if (this.last.size > this.maxChats) this.last.delete(this.last.keys().next().value as number);
    return true;
  }
}

/** The one answer a stranger's private chat gets. */
export function refusalText(chatId: number): string {
  return `This is a private Picket bot: it answers only its household. If that is you, ask its owner for a pairing code and send it here as /start CODE (this chat's id is ${chatId}).`;
}
