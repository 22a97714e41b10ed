import { describe, expect, it } from "vitest";
import { RefusalLimiter, checkUpdate, parseChatList, refusalText, startCode } from "./chat-guard.js";

const allowed = new Set([111, -222]);
const person = { id: 42, is_bot: false, first_name: "Ann" };
const msg = (chatId: number, extra: Record<string, unknown> = {}) => ({ message_id: 1, date: 0, chat: { id: chatId, type: chatId < 0 ? "group" : "private" }, text: "/ping", from: person, ...extra });

describe("checkUpdate", () => {
  it("accepts a message from a person in an allowed chat", () => {
    expect(checkUpdate({ update_id: 1, message: msg(111) }, allowed)).toEqual({ allowed: true, chatId: 111, fromId: 42 });
    expect(checkUpdate({ update_id: 2, edited_message: msg(-222) }, allowed)).toEqual({ allowed: true, chatId: -222, fromId: 42 });
  });

  it("ignores unknown chats and says which chat it was", () => {
    expect(checkUpdate({ update_id: 1, message: msg(999) }, allowed)).toEqual({ allowed: false, reason: "unknown-chat", chatId: 999 });
  });

  it("ignores an update without a sender even in an allowed chat", () => {
    const { from: _from, ...noFrom } = msg(111);
    expect(checkUpdate({ update_id: 1, message: noFrom }, allowed)).toEqual({ allowed: false, reason: "no-sender", chatId: 111 });
  });

  it("ignores channel posts, also in an allowed chat id", () => {
    const post = { message_id: 1, date: 0, chat: { id: -222, type: "channel" }, sender_chat: { id: -222, type: "channel" }, text: "/ping" };
    expect(checkUpdate({ update_id: 1, channel_post: post }, allowed)).toEqual({ allowed: false, reason: "channel-post", chatId: -222 });
    expect(checkUpdate({ update_id: 2, edited_channel_post: post }, allowed)).toMatchObject({ allowed: false, reason: "channel-post" });
  });

  it("ignores senders that are bots", () => {
    expect(checkUpdate({ update_id: 1, message: msg(111, { from: { id: 7, is_bot: true, first_name: "b" } }) }, allowed)).toMatchObject({ allowed: false, reason: "bot-sender" });
  });

  it("finds the chat of a callback query through its message", () => {
    const cq = { id: "x", from: person, chat_instance: "c", data: "d", message: msg(111) };
    expect(checkUpdate({ update_id: 1, callback_query: cq }, allowed)).toEqual({ allowed: true, chatId: 111, fromId: 42 });
  });

  it("ignores updates without a chat or with a strange shape", () => {
    expect(checkUpdate({ update_id: 1, inline_query: { id: "q", from: person, query: "", offset: "" } }, allowed)).toEqual({ allowed: false, reason: "no-chat" });
    expect(checkUpdate({ update_id: 1 }, allowed)).toEqual({ allowed: false, reason: "no-chat" });
    expect(checkUpdate(null, allowed)).toEqual({ allowed: false, reason: "no-chat" });
    expect(checkUpdate({ update_id: 1, message: msg(111, { chat: { id: "111" } }) }, allowed)).toEqual({ allowed: false, reason: "no-chat" });
  });
});

describe("parseChatList", () => {
  it("reads comma-separated ids, negative for groups, with spaces and duplicates", () => {
    expect(parseChatList("111,-222")).toEqual([111, -222]);
    expect(parseChatList(" 111 , -1001234567890,111 ")).toEqual([111, -1001234567890]);
    expect(parseChatList("")).toEqual([]);
  });

  it("names the entry that is not a chat id", () => {
    expect(() => parseChatList("111,abc")).toThrow(/"abc" is not a chat id/);
    expect(() => parseChatList("111,,222")).toThrow(/"" is not a chat id/);
    expect(() => parseChatList("1.5")).toThrow(/"1.5"/);
    expect(() => parseChatList("0")).toThrow(/"0"/);
    expect(() => parseChatList("99999999999999999")).toThrow(/is not a chat id/);
  });
});

describe("RefusalLimiter", () => {
  it("refuses a stranger's private chat once an hour, and never a group", () => {
    const limiter = new RefusalLimiter(3_600_000);
    expect(limiter.shouldRefuse(999, 0)).toBe(true);
    expect(limiter.shouldRefuse(999, 1_000)).toBe(false);
    expect(limiter.shouldRefuse(999, 3_599_999)).toBe(false);
    expect(limiter.shouldRefuse(999, 3_600_000)).toBe(true);
    expect(limiter.shouldRefuse(-100123, 0)).toBe(false);
  });

  it("remembers a bounded number of chats", () => {
    const limiter = new RefusalLimiter(3_600_000, 3);
    for (const id of [1, 2, 3, 4]) expect(limiter.shouldRefuse(id, 0)).toBe(true);
    // The oldest was forgotten: it may be refused again; the others not yet.
    expect(limiter.shouldRefuse(1, 10)).toBe(true);
    expect(limiter.shouldRefuse(4, 10)).toBe(false);
  });
});

describe("refusalText", () => {
  it("tells the stranger how to pair (a code from the owner, /start CODE) and names the chat id", () => {
    expect(refusalText(999)).toMatch(/pairing code.*\/start CODE.*id is 999/);
  });
});

describe("startCode", () => {
  it("reads the code of /start CODE, also addressed to the bot in a group", () => {
    expect(startCode("/start ABCD-EFGH")).toBe("ABCD-EFGH");
    expect(startCode("  /start@picket_bot   abcd efgh ")).toBe("abcd efgh");
  });

  it.each(["/start", "/start ", "/status ABCD", "/startABCD", "hello /start ABCD", "/start " + "A".repeat(60), 42, undefined])("finds no code in %j", (text) => {
    expect(startCode(text)).toBeUndefined();
  });
});

describe("RefusalLimiter, many strangers", () => {
  it("sends at most perMinute refusals a minute in all", () => {
    const limiter = new RefusalLimiter(3_600_000, 1_000, 10);
    const refused = Array.from({ length: 50 }, (_, i) => limiter.shouldRefuse(1_000 + i, i)).filter(Boolean);
    expect(refused).toHaveLength(10);
    expect(limiter.shouldRefuse(5_000, 61_000)).toBe(true);
  });
});
