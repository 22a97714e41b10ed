import { z } from "zod";

/**
 * Telegram chat pairing, as stored in the settings bucket (`SETTINGS_BUCKET`). Paired chats
 * are household-wide: every device's bot alerts them and takes their commands.
 */

const epochMs = z.number().int().nonnegative();
const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes} bytes as lowercase hex`);

/** Who paired a chat: `config`, `cli`, `telegram:<user id>`, `web:<user>`. */
const pairedBy = z.string().min(1).max(64);

/** A chat the bot talks to. Stored as JSON under `telegramKeys.chat(id)`. */
export const PairedChat = z.strictObject({
  /** Telegram's chat id: positive for a person, negative for groups and channels. */
  id: z.number().int().refine((n) => Number.isSafeInteger(n) && n !== 0, "must be a non-zero chat id"),
  /** A name for lists: the group's title or the person's name; empty when not known yet. */
  title: z.string().max(128),
  type: z.enum(["private", "group", "supergroup", "channel"]),
  pairedAt: epochMs,
  by: pairedBy,
  /** `config`: listed in PICKET_TELEGRAM_CHATS, written at the bot's start; `code`: paired with a pairing code. */
  source: z.enum(["config", "code"]),
});
export type PairedChat = z.infer<typeof PairedChat>;

/**
 * The one pending pairing code, stored as JSON under `telegramKeys.pairing`. Only a salted
 * hash of the code is kept: sha256(salt ‖ code), both as lowercase hex. A new code replaces
 * the old one; a redeemed one is deleted.
 */
export const PairingCode = z.strictObject({
  hash: hex(32),
  salt: hex(16),
  expiresAt: epochMs,
  /** Wrong guesses left; at 0 the code is dead. */
  attemptsLeft: z.number().int().min(0).max(20),
  createdBy: pairedBy,
});
export type PairingCode = z.infer<typeof PairingCode>;

/**
 * Keys in the settings bucket. KV key tokens may not hold a useful `-`, so a negative chat id
 * (a group or channel) is written `g<digits>`: -100123 is `telegram.chats.g100123`.
 */
export const telegramKeys = {
  chat: (id: number) => `telegram.chats.${id < 0 ? `g${-id}` : id}`,
  /** Every paired chat, for `kv.watch` and `kv.keys`. */
  chatsPrefix: "telegram.chats.>",
  pairing: "telegram.pairing",
} as const;

/** The chat id a `telegramKeys.chat()` key names, or undefined when it is not one. */
export function chatIdOfKey(key: string): number | undefined {
  const m = /^telegram\.chats\.(g?)([1-9][0-9]{0,15})$/.exec(key);
  if (m === null) return undefined;
  const n = Number(m[2]) * (m[1] === "g" ? -1 : 1);
  return Number.isSafeInteger(n) ? n : undefined;
}
