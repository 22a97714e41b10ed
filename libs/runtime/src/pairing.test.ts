import { PairingCode, chatIdOfKey, telegramKeys } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { CODE_ALPHABET, PairingAttemptLimiter, checkPairingCode, newPairingCode, normalizeCode, pairingReply } from "./pairing.js";

const T0 = 1_750_000_000_000;
const HOUR = 3_600_000;

/** Any valid code other than `code`. */
const otherThan = (code: string) => (code.startsWith("2222") ? "3333-3333" : "2222-2222");

describe("newPairingCode", () => {
  it("shows 8 unambiguous symbols as ABCD-EFGH and stores only a salted hash", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { code, record } = newPairingCode(T0, "cli");
      expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
      expect(PairingCode.parse(record)).toEqual(record);
      expect(JSON.stringify(record)).not.toContain(code.replace("-", ""));
      seen.add(code);
    }
    expect(seen.size).toBe(200);
    expect(CODE_ALPHABET).toHaveLength(31);
    expect(CODE_ALPHABET).not.toMatch(/[01OIL]/);
  });

  it("gives the same code a different hash each time (a fresh salt)", () => {
    const a = newPairingCode(T0, "cli").record;
    const b = newPairingCode(T0, "cli").record;
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it("lives an hour by default, 5 wrong tries", () => {
    expect(newPairingCode(T0, "cli").record).toMatchObject({ expiresAt: T0 + HOUR, attemptsLeft: 5, createdBy: "cli" });
    expect(newPairingCode(T0, "web:ann", 60_000).record).toMatchObject({ expiresAt: T0 + 60_000, createdBy: "web:ann" });
  });
});

describe("normalizeCode", () => {
  it("ignores case, spaces and dashes", () => {
    expect(normalizeCode("ABCD-EFGH")).toBe("ABCDEFGH");
    expect(normalizeCode(" abcd efgh ")).toBe("ABCDEFGH");
    expect(normalizeCode("ab-cd-ef-gh")).toBe("ABCDEFGH");
  });

  it("refuses text that cannot be a code, 0/O/1/I/L included, mapping nothing", () => {
    for (const text of ["", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFG0", "ABCD-EFGO", "ABCD-EFG1", "ABCD-EFGI", "ABCD-EFGL", "ABCD_EFGH", "hello", "x".repeat(100)]) {
      expect(normalizeCode(text), text).toBeUndefined();
    }
  });
});

describe("checkPairingCode", () => {
  it("accepts the code as it was shown, or typed in lower case without the dash", () => {
    const { code, record } = newPairingCode(T0, "cli");
    expect(checkPairingCode(record, code, T0 + 1_000)).toEqual({ ok: true });
    expect(checkPairingCode(record, code.toLowerCase().replace("-", " "), T0 + 1_000)).toEqual({ ok: true });
  });

  it("refuses a wrong code, counting the tries down, and the code is dead after the fifth", () => {
    const { code, record: first } = newPairingCode(T0, "cli");
    let record = first;
    for (const left of [4, 3, 2, 1, 0]) {
      const verdict = checkPairingCode(record, otherThan(code), T0 + 1_000);
      expect(verdict).toMatchObject({ ok: false, reason: "wrong", record: { attemptsLeft: left } });
      if (verdict.ok || verdict.reason !== "wrong") throw new Error("unreachable");
      record = verdict.record;
    }
    expect(checkPairingCode(record, code, T0 + 1_000)).toEqual({ ok: false, reason: "used-up" });
  });

  it("refuses an expired code, even the right one", () => {
    const { code, record } = newPairingCode(T0, "cli");
    expect(checkPairingCode(record, code, T0 + HOUR - 1)).toEqual({ ok: true });
    expect(checkPairingCode(record, code, T0 + HOUR)).toEqual({ ok: false, reason: "expired" });
  });

  it("says when there is no code, and costs no try for text that cannot be one", () => {
    const { record } = newPairingCode(T0, "cli");
    expect(checkPairingCode(undefined, "ABCD-EFGH", T0)).toEqual({ ok: false, reason: "no-code" });
    expect(checkPairingCode(record, "hello", T0)).toEqual({ ok: false, reason: "not-a-code" });
  });
});

describe("PairingAttemptLimiter", () => {
  it("lets a chat try 3 times in 10 minutes, then says when it may again", () => {
    const limiter = new PairingAttemptLimiter();
    expect(limiter.take(7, T0)).toEqual({ allowed: true });
    expect(limiter.take(7, T0 + 60_000)).toEqual({ allowed: true });
    expect(limiter.take(7, T0 + 120_000)).toEqual({ allowed: true });
    expect(limiter.take(7, T0 + 180_000)).toEqual({ allowed: false, retryAfterMs: 420_000 });
    expect(limiter.take(-100, T0 + 180_000)).toEqual({ allowed: true });
    expect(limiter.take(7, T0 + 600_000)).toEqual({ allowed: true });
    expect(limiter.take(7, T0 + 600_001)).toEqual({ allowed: false, retryAfterMs: 59_999 });
  });

  it("refused tries do not extend the wait", () => {
    const limiter = new PairingAttemptLimiter(1, 600_000);
    limiter.take(7, T0);
    for (let t = 1; t < 10; t++) expect(limiter.take(7, T0 + t * 60_000)).toMatchObject({ allowed: false });
    expect(limiter.take(7, T0 + 600_000)).toEqual({ allowed: true });
  });

  it("remembers a bounded number of chats, forgetting the least recent", () => {
    const limiter = new PairingAttemptLimiter(1, 600_000, 2);
    limiter.take(1, T0);
    limiter.take(2, T0);
    expect(limiter.take(1, T0)).toMatchObject({ allowed: false });
    limiter.take(3, T0);
    expect(limiter.take(1, T0)).toMatchObject({ allowed: false });
    expect(limiter.take(2, T0)).toEqual({ allowed: true });
  });
});

describe("pairingReply", () => {
  it("tells the chat what happened and what to do", () => {
    expect(pairingReply({ ok: true, already: false })).toMatch(/^Paired/);
    expect(pairingReply({ ok: true, already: true })).toMatch(/already paired/);
    expect(pairingReply({ ok: false, reason: "wrong", attemptsLeft: 3 })).toBe("Wrong code. 3 tries left.");
    expect(pairingReply({ ok: false, reason: "wrong", attemptsLeft: 0 })).toMatch(/last try.*npm run bot -- pair/);
    expect(pairingReply({ ok: false, reason: "expired" })).toMatch(/expired.*new code/);
    expect(pairingReply({ ok: false, reason: "used-up" })).toMatch(/too many wrong tries/);
    expect(pairingReply({ ok: false, reason: "no-code" })).toMatch(/no pairing code/);
    expect(pairingReply({ ok: false, reason: "not-a-code" })).toMatch(/ABCD-EFGH/);
    expect(pairingReply({ ok: false, reason: "too-fast", retryAfterMs: 420_000 })).toMatch(/in 7 min/);
  });
});

describe("telegramKeys", () => {
  it("names a chat's key without a leading dash, and reads the id back", () => {
    expect(telegramKeys.chat(123)).toBe("telegram.chats.123");
    expect(telegramKeys.chat(-1001234567890)).toBe("telegram.chats.g1001234567890");
    for (const id of [1, 123, -5, -1001234567890, Number.MAX_SAFE_INTEGER]) expect(chatIdOfKey(telegramKeys.chat(id))).toBe(id);
    for (const key of ["telegram.chats.0", "telegram.chats.g0", "telegram.chats.-5", "telegram.chats.x1", "telegram.pairing", "telegram.chats.99999999999999999"]) {
      expect(chatIdOfKey(key), key).toBeUndefined();
    }
  });
});
