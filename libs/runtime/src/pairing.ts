import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import type { PairingCode } from "@picket/contracts";

/**
 * Pairing codes: the owner makes one (`npm run bot -- pair`), then sends `/start <code>` to
 * the bot from the chat to pair. Pure: time comes in as an argument.
 *
 * A code is 8 symbols from a 31-symbol alphabet without 0, O, 1, I and L, so what is read off a
 * screen is what is typed. It lives an hour and takes 5 wrong guesses, so the chance that a
 * stranger guesses it is 5 / 31^8, about 6 in a trillion. A stranger CAN use up the 5 guesses
 * and so make the owner create a new code: that denial is accepted, a successful guess is not.
 * Only a salted sha256 of the code is stored. A slow hash would add nothing: whoever can read
 * the settings bucket can write a paired chat into it directly, and the code dies within the
 * hour; the hash keeps the code itself out of the bucket's history and backups.
 */

/** The symbols of a code: digits 2-9 and A-Z without I, L and O (31 in all). */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export const CODE_LENGTH = 8;
/** Wrong guesses a code takes before it is dead. */
export const CODE_ATTEMPTS = 5;
export const CODE_TTL_MS = 3_600_000;

/** Why a `/start <code>` did not pair the chat. */
export type PairingRefusal = "not-a-code" | "no-code" | "expired" | "used-up" | "wrong" | "too-fast";

export type PairingCheck =
  | { ok: true }
  | { ok: false; reason: "not-a-code" | "no-code" | "expired" | "used-up" }
  /** `record` is the code with one guess fewer left: store it, or the guess was free. */
  | { ok: false; reason: "wrong"; record: PairingCode };

function hashCode(code: string, salt: Buffer): Buffer {
  return createHash("sha256").update(salt).update(code, "utf8").digest();
}

/** `ABCDEFGH` as it is shown: `ABCD-EFGH`. */
export function formatCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * A fresh code and the record to store for it. `code` is shown grouped (`ABCD-EFGH`); the
 * record holds only its salted hash, when it expires and the guesses left.
 */
export function newPairingCode(now: number, createdBy: string, ttlMs = CODE_TTL_MS): { code: string; record: PairingCode } {
  let plain = "";
  for (let i = 0; i < CODE_LENGTH; i++) plain += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  const salt = randomBytes(16);
  return {
    code: formatCode(plain),
    record: { hash: hashCode(plain, salt).toString("hex"), salt: salt.toString("hex"), expiresAt: now + ttlMs, attemptsLeft: CODE_ATTEMPTS, createdBy: createdBy.slice(0, 64) },
  };
}

/**
 * The code in typed text, as stored (`ABCDEFGH`), or undefined when the text cannot be one.
 * Case, spaces and dashes do not matter. Nothing is mapped: 0, O, 1, I and L never occur in
 * a code, so text with them is refused as not a code (costing no guess) rather than turned
 * into a guess the person did not type.
 */
export function normalizeCode(text: string): string | undefined {
  if (text.length > 64) return undefined;
  const t = text.replace(/[\s-]/g, "").toUpperCase();
  if (t.length !== CODE_LENGTH) return undefined;
  for (const c of t) if (!CODE_ALPHABET.includes(c)) return undefined;
  return t;
}

/**
 * Checks a typed code against the stored record at `now`. An expired or used-up code is
 * refused whatever was typed; text that cannot be a code costs no guess. The comparison
 * takes the same time whichever symbols are right.
 */
export function checkPairingCode(record: PairingCode | undefined, typed: string, now: number): PairingCheck {
  if (record === undefined) return { ok: false, reason: "no-code" };
  if (now >= record.expiresAt) return { ok: false, reason: "expired" };
  if (record.attemptsLeft <= 0) return { ok: false, reason: "used-up" };
  const code = normalizeCode(typed);
  if (code === undefined) return { ok: false, reason: "not-a-code" };
  const stored = Buffer.from(record.hash, "hex");
  const given = hashCode(code, Buffer.from(record.salt, "hex"));
  if (stored.length === given.length && timingSafeEqual(stored, given)) return { ok: true };
  return { ok: false, reason: "wrong", record: { ...record, attemptsLeft: record.attemptsLeft - 1 } };
}

/**
 * At most `max` pairing attempts per chat in `windowMs` (3 per 10 minutes), so one chat cannot
 * spend a code's guesses in a burst nor make the bot answer a flood. It is not what stops a
 * guess (the code's own 5 guesses do), so forgetting the oldest chat when more than
 * `maxChats` are tracked is harmless. Bounded memory. Pure.
 */
export class PairingAttemptLimiter {
  private readonly attempts = new Map<number, number[]>();

  constructor(
    private readonly max = 3,
    private readonly windowMs = 600_000,
    private readonly maxChats = 1_000,
  ) {}

  /** Records an attempt from `chatId` at `now` when it may make one; otherwise says how long until it may. */
  take(chatId: number, now: number): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const recent = (this.attempts.get(chatId) ?? []).filter((t) => now - t < this.windowMs);
    this.attempts.delete(chatId);
    if (recent.length >= this.max) {
      this.attempts.set(chatId, recent);
      return { allowed: false, retryAfterMs: (recent[0] as number) + this.windowMs - now };
    }
    recent.push(now);
    this.attempts.set(chatId, recent);
    if (this.attempts.size > this.maxChats) this.attempts.delete(this.attempts.keys().next().value as number);
    return { allowed: true };
  }
}

/** The answer in the chat to a `/start <code>`: paired, or why not and what to do. */
export function pairingReply(result: { ok: true; already: boolean } | { ok: false; reason: PairingRefusal; attemptsLeft?: number; retryAfterMs?: number }): string {
  if (result.ok) return result.already ? "This chat is already paired with Picket." : "Paired: this chat now gets Picket's alerts and may command the bot. /help lists the commands.";
  const ask = "Ask the owner for a new code (npm run bot -- pair).";
  switch (result.reason) {
    case "not-a-code":
      return "That is not a pairing code. Codes look like ABCD-EFGH and never contain 0, O, 1, I or L.";
    case "no-code":
      return `There is no pairing code waiting. ${ask}`;
    case "expired":
      return `That pairing code has expired. ${ask}`;
    case "used-up":
      return `That pairing code took too many wrong tries and no longer works. ${ask}`;
    case "wrong":
      return result.attemptsLeft === 0 ? `Wrong code. That was its last try: the code no longer works. ${ask}` : `Wrong code. ${result.attemptsLeft ?? "A few"} tries left.`;
    case "too-fast":
      return `Too many tries from this chat. Try again in ${Math.max(1, Math.ceil((result.retryAfterMs ?? 60_000) / 60_000))} min.`;
  }
}
