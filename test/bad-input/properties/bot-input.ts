// What the bot reads from Telegram and its settings: the update guard (checked against what
// telegraf itself will act on), command arguments, button data, chat lists and pairing codes.
import fc from "fast-check";
import { Context } from "telegraf";
import { alertButtons, deviceButtons, parseAction } from "../../../services/bot/src/alert-buttons.js";
import { RefusalLimiter, checkUpdate, parseChatList, startCode } from "../../../services/bot/src/chat-guard.js";
import { MAX_SNOOZE_MS, parseDuration } from "../../../services/bot/src/household.js";
import { onlyThrows, prop, type BadInputFamily } from "./family.js";

const ALLOWED = new Set([111, -222]);

const chatId = fc.oneof(fc.constantFrom<unknown>(111, -222, 999, -333, -1001234567890, 0, "111", 111.5, null, 2 ** 60, undefined), fc.integer());
const chat = fc.oneof(
  fc.record({ id: chatId, type: fc.constantFrom("private", "group", "supergroup", "channel", "secret") }, { requiredKeys: ["id"] }),
  fc.constantFrom<unknown>(undefined, null, "111", [], 111),
);
const sender = fc.oneof(
  fc.record({ id: fc.oneof(fc.constantFrom<unknown>(111, 42, "42", null), fc.integer()), is_bot: fc.constantFrom<unknown>(false, true, "true", undefined), first_name: fc.constant("X") }, { requiredKeys: ["id"] }),
  fc.constantFrom<unknown>(undefined, null, 42),
);
const message = fc.record({ message_id: fc.nat(), date: fc.nat(), chat, from: sender, text: fc.constantFrom("/disarm", "/start ABCD-EFGH", "hi", "") }, { requiredKeys: [] });
const payload = fc.oneof(
  message,
  fc.record({ id: fc.string(), from: sender, data: fc.string(), message }, { requiredKeys: [] }),
  fc.record({ chat, from: sender, date: fc.nat(), new_chat_member: fc.constant({}) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);
/** The update kinds whose chat telegraf 4 hands its handlers (ctx.chat). */
const TELEGRAF_READS = new Set(["message", "edited_message", "callback_query", "channel_post", "edited_channel_post", "my_chat_member", "chat_member", "chat_join_request", "message_reaction"]);
const KINDS = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "inline_query", "my_chat_member", "chat_member", "chat_join_request", "poll_answer", "message_reaction", "business_message", "future_kind"];

/** Updates as Telegram sends them (one kind) and as it never would (several, odd values), the kinds in any order. */
const update = fc
  .tuple(fc.uniqueArray(fc.constantFrom(...KINDS), { minLength: 0, maxLength: 3 }), fc.array(payload, { minLength: 3, maxLength: 3 }), fc.boolean())
  .map(([kinds, payloads, idFirst]) => {
    const body = Object.fromEntries(kinds.map((k, i) => [k, payloads[i]]));
    return idFirst ? { update_id: 1, ...body } : { ...body, update_id: 1 };
  });

/** What telegraf will act on for this update: the chat and sender its handlers see. */
function telegrafView(u: Record<string, unknown>): { chat: unknown; from: unknown } | undefined {
  try {
    const ctx = new Context(u as never, {} as never, {} as never);
    return { chat: ctx.chat, from: ctx.from };
  } catch {
    return undefined; // telegraf cannot read it: no handler runs
  }
}

export const botInputFamilies: BadInputFamily[] = [
  {
    id: "bad-input-telegram-update-guard",
    family: "Telegram update guard and refusals (checkUpdate against telegraf's own reading, RefusalLimiter)",
    outcome: "acted on only when the chat and sender telegraf hands the handlers are an allowed chat and a person; everything else ignored with a reason, never an exception; a stranger's private chat gets one refusal an hour, at most 10 a minute in all",
    properties: [
      prop("arbitrary updates", 2_000, update, (u) => {
        const verdict = onlyThrows(() => checkUpdate(u, ALLOWED), () => false);
        if (verdict === undefined) return false;
        if (!verdict.allowed) return true;
        const view = telegrafView(u);
        const chat = view?.chat as { id?: unknown } | undefined;
        const from = view?.from as { id?: unknown; is_bot?: unknown } | undefined;
        // A kind telegraf has no reader for reaches no handler with a chat to answer.
        if (chat === undefined) return !Object.keys(u).some((k) => TELEGRAF_READS.has(k));
        return chat.id === verdict.chatId && ALLOWED.has(verdict.chatId) && from?.id === verdict.fromId && from.is_bot !== true;
      }),
      prop("arbitrary values", 300, fc.anything(), (v) => onlyThrows(() => checkUpdate(v, ALLOWED), () => false)?.allowed === false),
      prop("refusals to strangers: one per chat an hour, at most 10 a minute", 100, fc.array(fc.tuple(fc.integer({ min: -3, max: 30 }), fc.integer({ min: 0, max: 20_000 })), { maxLength: 200 }), (msgs) => {
        const limiter = new RefusalLimiter();
        const sent: [number, number][] = [];
        let now = 0;
        for (const [chat, gap] of msgs) {
          now += gap;
          if (limiter.shouldRefuse(chat, now)) sent.push([chat, now]);
        }
        return sent.every(([chat, at], i) => chat > 0 && !sent.some(([c, t], j) => j < i && c === chat && at - t < 3_600_000) && sent.filter(([, t]) => t > at - 60_000 && t <= at).length <= 10);
      }),
    ],
  },
  {
    id: "bad-input-bot-commands",
    family: "bot command arguments and button data (/start code, /snooze durations, callback data, PICKET_TELEGRAM_CHATS)",
    outcome: "a valid action, code, duration or chat list, or undefined / a RangeError with a message for the chat; buttons the bot makes read back",
    properties: [
      prop("button data", 800, fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.tuple(fc.constantFrom("snap:", "clip:", "snooze:", "disarm", "arm", "format:"), fc.string({ maxLength: 70 })).map(([a, b]) => a + b), fc.constantFrom("snooze:59", "snooze:60", "snooze:604800", "snooze:604801", "snooze:0060", "clip:../x", "snap:", "disarm ", undefined)), (data) => {
        const a = onlyThrows(() => parseAction(data as string), () => false);
        if (a === undefined) return true;
        if (a.kind === "snooze") return a.ms >= 60_000 && a.ms <= MAX_SNOOZE_MS;
        if (a.kind === "snapshot" || a.kind === "clip") return /^[A-Za-z0-9_-]{1,64}$/.test(a.device);
        return data === a.kind;
      }),
      prop("buttons the bot makes read back", 200, fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.constantFrom("snapshot" as const, "clip" as const)), ([device, kind]) => {
        const data = [...alertButtons(device), ...deviceButtons(kind, [device])].flat().flatMap((b) => ("callback_data" in b ? [b.callback_data] : []));
        return data.every((d) => parseAction(d) !== undefined && Buffer.byteLength(d) <= 64);
      }),
      prop("/start text", 500, fc.oneof(fc.string({ unit: "binary", maxLength: 80 }), fc.string({ maxLength: 60 }).map((s) => `/start ${s}`), fc.string({ maxLength: 10_000 }).map((s) => `/start@picket_bot ${s}`), fc.anything()), (text) => {
        const code = onlyThrows(() => startCode(text), () => false);
        return code === undefined || (code.length >= 1 && code.length <= 41 && !code.includes("\n"));
      }),
      prop("/snooze durations", 500, fc.oneof(fc.string({ unit: "binary", maxLength: 30 }), fc.stringMatching(/^\s*(\d{1,7}d)?\s*(\d{1,7}h)?\s*(\d{1,7}m(in)?)?\s*$/), fc.nat().map(String)), (text) => {
        const ms = onlyThrows(() => parseDuration(text), (err) => err instanceof RangeError && err.message.length < 120);
        return ms === undefined || (Number.isInteger(ms) && ms >= 60_000 && ms <= MAX_SNOOZE_MS);
      }),
      prop("chat lists", 500, fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.array(fc.oneof(fc.integer().map(String), fc.constantFrom("0", "-0", " 5 ", "1e3", "99999999999999999", "abc", "")), { maxLength: 6 }).map((a) => a.join(","))), (text) => {
        const list = onlyThrows(() => parseChatList(text), (err) => err instanceof RangeError && /is not a chat id/.test(err.message));
        return list === undefined || (list.every((n) => Number.isSafeInteger(n) && n !== 0) && new Set(list).size === list.length);
      }),
    ],
  },
];
