import { PairedChat, PairingCode, chatIdOfKey, telegramKeys } from "@picket/contracts";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "./logger.js";
import { checkPairingCode, newPairingCode, type PairingRefusal } from "./pairing.js";

/**
 * The chats the household's bot talks to, as stored in the settings bucket: a live view that
 * follows every change (a pairing from another device's bot, `npm run bot -- unpair`), and
 * the writes that pair and unpair. A stored chat that does not read as a PairedChat counts as
 * not paired: for who may command a camera, an unreadable entry fails closed.
 */

/** What the bot knows of a chat that asks to be paired. */
export interface ChatInfo {
  id: number;
  /** The group's title or the person's name; cut to 128 characters. */
  title: string;
  type: PairedChat["type"];
}

export type RedeemResult =
  | { ok: true; chat: PairedChat; already: boolean }
  | { ok: false; reason: Exclude<PairingRefusal, "too-fast">; attemptsLeft?: number };

/** A chat paired (`chat` set) or unpaired (`chat` undefined). */
export interface PairedChatsChange {
  chatId: number;
  chat: PairedChat | undefined;
}

export interface PairedChatsOptions {
  /** The clock for `pairedAt` and code expiry. */
  now?: () => number;
}

/** How often a redemption re-reads the code when another one changed it meanwhile. */
const MAX_CAS_ROUNDS = 5;

const reasonOf = (err: unknown) => (err instanceof Error ? err.message.slice(0, 300) : String(err));

/** True for JetStream's "wrong last sequence": the entry changed since it was read. */
function isConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && (code === 10071 || code === 10164 || /wrong last sequence/i.test(err.message));
}

/**
 * Stores a new pairing code, replacing any earlier one, and returns it for showing once,
 * with when it expires. `createdBy` is who asked: `cli`, `telegram:<user id>`, `web:<user>`.
 */
export async function createPairingCode(kv: KV, createdBy: string, now = Date.now(), ttlMs?: number): Promise<{ code: string; expiresAt: number }> {
  const { code, record } = newPairingCode(now, createdBy, ttlMs);
  await kv.put(telegramKeys.pairing, JSON.stringify(record));
  return { code, expiresAt: record.expiresAt };
}

/**
 * Opens the live set of paired chats. It has read every stored chat when it resolves, then
 * follows `telegram.chats.>`: a deleted or purged key unpairs.
 */
export async function openPairedChats(kv: KV, log: Logger, opts: PairedChatsOptions = {}) {
  const clock = opts.now ?? Date.now;
  // Revision per chat id, also of deletions, so the initial read and the watch can arrive in any order.
  const state = new Map<number, { revision: number; chat: PairedChat | undefined }>();
  const listeners = new Set<(change: PairedChatsChange) => void>();

  function set(chatId: number, revision: number, chat: PairedChat | undefined): void {
    const prev = state.get(chatId);
    if (prev !== undefined && prev.revision >= revision) return;
    state.set(chatId, { revision, chat });
    if (JSON.stringify(prev?.chat) === JSON.stringify(chat)) return;
    for (const l of listeners) {
      try {
        l({ chatId, chat });
      } catch (err) {
        log.error({ err, chatId }, "a paired-chats listener failed");
      }
    }
  }

  function apply(e: KvEntry): void {
    const chatId = chatIdOfKey(e.key);
    if (chatId === undefined) return log.warn({ key: e.key }, "ignoring a key under telegram.chats that names no chat");
    if (e.operation !== "PUT") return set(chatId, e.revision, undefined);
    let chat: PairedChat;
    try {
      chat = PairedChat.parse(JSON.parse(e.string()));
    } catch (err) {
      log.warn({ key: e.key, reason: reasonOf(err), value: e.string().slice(0, 200) }, "a stored paired chat does not read: treating it as not paired");
      return set(chatId, e.revision, undefined);
    }
    if (chat.id !== chatId) {
      log.warn({ key: e.key, id: chat.id }, "a stored paired chat names another chat than its key: treating it as not paired");
      return set(chatId, e.revision, undefined);
    }
    set(chatId, e.revision, chat);
  }

  const iter = await kv.watch({ key: telegramKeys.chatsPrefix });
  let stopped = false;
  void (async () => {
    for await (const e of iter) apply(e);
    if (!stopped) log.error("the paired-chats watch ended: pairing changes are no longer seen until the bot restarts");
  })().catch((err: unknown) => log.error({ err }, "the paired-chats watch failed: pairing changes are no longer seen until the bot restarts"));
  try {
    for await (const key of await kv.keys(telegramKeys.chatsPrefix)) {
      const e = await kv.get(key);
      if (e !== null) apply(e);
    }
  } catch (err) {
    iter.stop();
    throw err;
  }

  const current = (chatId: number): PairedChat | undefined => state.get(chatId)?.chat;
  const list = (): PairedChat[] => [...state.values()].flatMap((s) => (s.chat === undefined ? [] : [s.chat])).sort((a, b) => a.id - b.id);

  function readCode(entry: KvEntry | null): PairingCode | undefined {
    if (entry === null || entry.operation !== "PUT") return undefined;
    try {
      return PairingCode.parse(JSON.parse(entry.string()));
    } catch (err) {
      log.warn({ reason: reasonOf(err) }, "the stored pairing code does not read: treating it as none");
      return undefined;
    }
  }

  /** Deletes a chat's key, against `previousSeq` when given, and forgets the chat at once. */
  async function remove(chatId: number, revision: number, previousSeq?: number): Promise<void> {
    await kv.delete(telegramKeys.chat(chatId), previousSeq === undefined ? {} : { previousSeq });
    // The delete marker's revision is not returned. It is above `revision`, the last one seen, and
    // so is this, so the watch's late echo of an older PUT cannot bring the chat back.
    set(chatId, revision + 0.5, undefined);
  }

  async function write(chat: PairedChat): Promise<PairedChat> {
    const valid = PairedChat.parse(chat);
    set(valid.id, await kv.put(telegramKeys.chat(valid.id), JSON.stringify(valid)), valid);
    return valid;
  }

  return {
    has: (chatId: number): boolean => current(chatId) !== undefined,
    /** The stored chat, or undefined when it is not paired. */
    get: current,
    /** Every paired chat, in the order of their ids. */
    list,
    ids: (): number[] => list().map((c) => c.id),
    /** Stores `chat` as paired, replacing what was stored for its id. Throws when it is not a valid PairedChat. */
    pair: write,
    /** Unpairs a chat; resolves to what was stored for it, or undefined when it was not paired. */
    async unpair(chatId: number): Promise<PairedChat | undefined> {
      const prev = state.get(chatId);
      if (prev === undefined) return undefined;
      await remove(chatId, prev.revision);
      return prev.chat;
    },
    /**
     * Makes the stored chats of source `config` match PICKET_TELEGRAM_CHATS: adds the listed
     * chats that are not paired (so lists show them; their title is unknown and the type is
     * guessed from the id), and unpairs `config` chats no longer listed, so that taking a chat
     * out of the variable takes it out of the household. Chats paired with a code stay.
     */
    async seed(configChats: readonly number[], now = clock()): Promise<{ added: number[]; removed: number[] }> {
      const added: number[] = [];
      const removed: number[] = [];
      for (const id of configChats) {
        if (current(id) !== undefined) continue;
        const chat = PairedChat.parse({ id, title: "", type: id > 0 ? "private" : id <= -1_000_000_000_000 ? "supergroup" : "group", pairedAt: now, by: "config", source: "config" });
        try {
          set(id, await kv.create(telegramKeys.chat(id), JSON.stringify(chat)), chat);
          added.push(id);
        } catch (err) {
          // Another bot stored it meanwhile: the watch brings it.
          if (!isConflict(err)) throw err;
        }
      }
      for (const [id, s] of state) {
        if (s.chat?.source !== "config" || configChats.includes(id)) continue;
        try {
          await remove(id, s.revision, s.revision);
          removed.push(id);
        } catch (err) {
          // Changed meanwhile (re-paired with a code, say): leave it.
          if (!isConflict(err)) throw err;
        }
      }
      if (added.length > 0 || removed.length > 0) log.info({ added, removed }, "paired chats follow PICKET_TELEGRAM_CHATS");
      return { added, removed };
    },
    /**
     * Pairs `chat` when `typed` is the pending code. The code works once: it is deleted
     * against the revision it was read at, so of two redemptions at the same moment exactly
     * one wins and the other finds no code. A wrong code spends one of the code's guesses.
     * A chat that is already paired is answered so, and the code is left alone.
     */
    async redeem(chat: ChatInfo, typed: string, by: string, now = clock()): Promise<RedeemResult> {
      const already = current(chat.id);
      if (already !== undefined) return { ok: true, chat: already, already: true };
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        const entry = await kv.get(telegramKeys.pairing);
        const revision = entry?.revision ?? 0;
        const verdict = checkPairingCode(readCode(entry), typed, now);
        try {
          if (verdict.ok) {
            await kv.delete(telegramKeys.pairing, { previousSeq: revision });
            const paired = await write({ id: chat.id, title: chat.title.slice(0, 128), type: chat.type, pairedAt: now, by: by.slice(0, 64), source: "code" });
            log.info({ chatId: chat.id, type: chat.type, by }, "chat paired with a code");
            return { ok: true, chat: paired, already: false };
          }
          if (verdict.reason !== "wrong") return { ok: false, reason: verdict.reason };
          await kv.update(telegramKeys.pairing, JSON.stringify(verdict.record), revision);
          log.warn({ chatId: chat.id, by, attemptsLeft: verdict.record.attemptsLeft }, "wrong pairing code");
          return { ok: false, reason: "wrong", attemptsLeft: verdict.record.attemptsLeft };
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }
      throw new Error("the pairing code kept changing while it was checked");
    },
    /** Calls `listener` on every pairing and unpairing after this; returns the unsubscribe. */
    onChange(listener: (change: PairedChatsChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop(): void {
      stopped = true;
      iter.stop();
    },
  };
}

export type PairedChats = Awaited<ReturnType<typeof openPairedChats>>;
