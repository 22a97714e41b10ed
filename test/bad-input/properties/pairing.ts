// Pairing codes as strangers type them, and the limits on guessing.
import { createHash } from "node:crypto";
import fc from "fast-check";
import type { PairingCode } from "../../../libs/contracts/src/telegram.js";
import { CODE_ALPHABET, CODE_ATTEMPTS, CODE_TTL_MS, PairingAttemptLimiter, checkPairingCode, normalizeCode } from "../../../libs/runtime/src/pairing.js";
import { onlyThrows, prop, type BadInputFamily } from "./family.js";

const codeLike = fc.stringMatching(new RegExp(`^[${CODE_ALPHABET}]{8}$`));

/** A code as `npm run bot -- pair` makes one (without the dash), and its stored record. */
const storedCode = codeLike.map((code) => {
  const salt = "5a".repeat(16);
  const hash = createHash("sha256").update(Buffer.from(salt, "hex")).update(code).digest("hex");
  const record: PairingCode = { hash, salt, expiresAt: CODE_TTL_MS, attemptsLeft: CODE_ATTEMPTS, createdBy: "cli" };
  return { code, record };
});

/** A typed pairing-code attempt: the code in any case and spacing, near misses (by number), or anything. */
const typedCode = fc.oneof(fc.nat(6), codeLike, fc.string({ unit: "binary", maxLength: 80 }));

function typed(code: string, t: number | string): string {
  if (typeof t === "string") return t;
  return [code, code.toLowerCase(), ` ${code.slice(0, 4)} - ${code.slice(4)} `, code.replace(/[A-Z]/, "4"), code.slice(0, 7), `${code}2`, code.replace(/./, "0")][t] as string;
}

export const pairingFamilies: BadInputFamily[] = [
  {
    id: "bad-input-pairing-codes",
    family: "pairing codes and attempt limits (checkPairingCode, PairingAttemptLimiter)",
    outcome: "only the code itself pairs; a wrong guess costs exactly one of 5 tries, text that cannot be a code costs none; a chat gets 3 attempts per 10 minutes",
    properties: [
      prop("typed codes against a stored one", 300, fc.tuple(storedCode, fc.nat(CODE_ATTEMPTS - 1), typedCode), ([made, used, t]) => {
        const text = typed(made.code, t);
        const record = { ...made.record, attemptsLeft: CODE_ATTEMPTS - used };
        const r = onlyThrows(() => checkPairingCode(record, text, 1), () => false);
        if (r === undefined) return false;
        const right = normalizeCode(text) === made.code;
        if (r.ok) return right;
        if (r.reason === "wrong") return !right && normalizeCode(text) !== undefined && r.record.attemptsLeft === record.attemptsLeft - 1;
        return r.reason === "not-a-code" ? normalizeCode(text) === undefined : false;
      }),
      prop("brute force: at most 5 guesses count, and a chat gets 3 attempts per 10 minutes", 100, fc.tuple(storedCode, fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 120_000 })), { minLength: 1, maxLength: 60 })), ([{ code, record }, attempts]) => {
        let stored = record;
        const limiter = new PairingAttemptLimiter();
        let now = 0;
        const perChat = new Map<number, number[]>();
        for (const [chat, gap] of attempts) {
          now += gap;
          const slot = limiter.take(chat, now);
          const recent = (perChat.get(chat) ?? []).filter((t) => now - t < 600_000);
          if (slot.allowed !== recent.length < 3) return false;
          if (!slot.allowed) continue;
          perChat.set(chat, [...recent, now]);
          const r = checkPairingCode(stored, code === "22222222" ? "33333333" : "22222222", now % CODE_TTL_MS);
          if (r.ok) return false;
          if (r.reason === "wrong") stored = r.record;
        }
        return stored.attemptsLeft >= 0 && checkPairingCode(stored, code, 1).ok === stored.attemptsLeft > 0;
      }),
    ],
  },
];
