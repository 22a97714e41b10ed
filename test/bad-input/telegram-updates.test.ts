// The real bot service against the Telegram Bot API double, fed updates of every shape Telegram
// might send (and some it never would): strangers, bots, channels, edits, unknown kinds,
// missing fields, forged buttons, huge and odd texts. And pairing-code brute force through the
// bot. Both families are recorded for docs/RELIABILITY.md.
import { settingsKeys } from "@picket/contracts";
import { openSettings } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { ALLOWED, TOKEN, expectNoSecret, ok, startBotStack, type Cleanups } from "../support/bot.js";
import { recordReliability } from "../support/reliability.js";
import { runCli } from "../support/services.js";
import { updates, type ApiCall, type UpdateBody } from "../support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const now = () => Math.floor(Date.now() / 1000);
const person = (id: number) => ({ id, is_bot: false, first_name: `User ${id}` });
const privateChat = (id: number) => ({ id, type: "private", first_name: `User ${id}` });
const group = (id: number) => ({ id, type: "group", title: `Group ${-id}` });
const command = (text: string) => {
  const m = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  return m === null ? {} : { entities: [{ offset: 0, length: m[0].length, type: "bot_command" }] };
};
const msg = (chat: unknown, from: unknown, text: string, extra: Record<string, unknown> = {}) => ({ message_id: Math.floor(Math.random() * 1e6), date: now(), chat, ...(from === undefined ? {} : { from }), text, ...command(text), ...extra });
/** A button press under a message the bot sent to `chat`. */
const press = (chat: unknown, from: unknown, data: unknown) => ({ callback_query: { id: String(Math.random()).slice(2), from, chat_instance: "1", ...(data === undefined ? {} : { data }), message: msg(chat, { id: 1, is_bot: true, first_name: "Picket" }, "alert") } });

const STRANGER = 999;
const STRANGER_GROUP = -333;
const [CHAT, GROUP] = ALLOWED.map(Number) as [number, number];

/**
 * Updates nobody may act through: each is ignored. Strangers' private chats may get the one
 * polite refusal, nothing else; the allowed chats' ids appear here only where the sender,
 * the kind or the shape must stop the update.
 */
const refused: [string, UpdateBody][] = [
  ["a stranger's command", { message: msg(privateChat(STRANGER), person(STRANGER), "/disarm") }],
  ["a stranger's group command", { message: msg(group(STRANGER_GROUP), person(5), "/disarm") }],
  ["a stranger's edited message", { edited_message: { ...msg(privateChat(STRANGER), person(STRANGER), "/disarm"), edit_date: now() } }],
  ["a stranger's button", press(privateChat(STRANGER), person(STRANGER), "disarm")],
  ["a bot's button press in an allowed chat", press(privateChat(CHAT), { ...person(STRANGER), is_bot: true }, "disarm")],
  ["a command without a sender in an allowed chat", { message: msg(privateChat(CHAT), undefined, "/disarm") }],
  ["a command from a bot in an allowed chat", { message: msg(privateChat(CHAT), { id: 4242, is_bot: true, first_name: "Evil bot" }, "/disarm") }],
  ["an anonymous group admin (GroupAnonymousBot) in an allowed group", { message: msg(group(GROUP), { id: 1087968824, is_bot: true, first_name: "Group" }, "/disarm", { sender_chat: group(GROUP) }) }],
  ["a channel post with an allowed chat's id", { channel_post: msg({ id: GROUP, type: "channel", title: "C" }, undefined, "/disarm", { sender_chat: { id: GROUP, type: "channel" } }) }],
  ["an edited channel post", { edited_channel_post: msg({ id: GROUP, type: "channel", title: "C" }, undefined, "/disarm") }],
  ["a message without a chat", { message: { message_id: 1, date: now(), from: person(CHAT), text: "/disarm", ...command("/disarm") } }],
  ["a chat id as a string", { message: msg({ id: String(CHAT), type: "private" }, person(CHAT), "/disarm") }],
  ["a chat id beyond 2^53", { message: msg({ id: 2 ** 60, type: "private" }, person(CHAT), "/disarm") }],
  ["a sender id as a string", { message: msg(privateChat(CHAT), { id: String(CHAT), is_bot: false, first_name: "x" }, "/disarm") }],
  ["a message that is a string", { message: "/disarm" }],
  ["a message that is null", { message: null }],
  ["an update with nothing but its id", {}],
  ["two payloads: an allowed chat's edit and a stranger's command", { edited_message: msg(privateChat(CHAT), person(CHAT), "hi"), message: msg(privateChat(STRANGER + 1), person(STRANGER + 1), "/disarm") }],
  ["an inline query", { inline_query: { id: "1", from: person(CHAT), query: "/disarm", offset: "" } }],
  ["a chosen inline result", { chosen_inline_result: { result_id: "1", from: person(CHAT), query: "x" } }],
  ["a poll", { poll: { id: "1", question: "?", options: [], total_voter_count: 0, is_closed: false, is_anonymous: true, type: "regular", allows_multiple_answers: false } }],
  ["a poll answer", { poll_answer: { poll_id: "1", user: person(CHAT), option_ids: [0] } }],
  ["the bot added to a stranger's group", { my_chat_member: { chat: group(STRANGER_GROUP), from: person(5), date: now(), old_chat_member: { status: "left", user: person(1) }, new_chat_member: { status: "member", user: person(1) } } }],
  ["a join request from a stranger", { chat_join_request: { chat: group(STRANGER_GROUP), from: person(6), user_chat_id: 6, date: now() } }],
  ["a reaction in an allowed chat (no `from`)", { message_reaction: { chat: privateChat(CHAT), message_id: 1, user: person(CHAT), date: now(), old_reaction: [], new_reaction: [{ type: "emoji", emoji: "👍" }] } }],
  ["a pre-checkout query", { pre_checkout_query: { id: "1", from: person(CHAT), currency: "EUR", total_amount: 1, invoice_payload: "x" } }],
  ["a kind Telegram has not invented yet, from a stranger", { future_kind: { chat: privateChat(STRANGER + 2), from: person(STRANGER + 2), text: "/disarm" } }],
  ["a stranger's 10,000-character caption", { message: { message_id: 1, date: now(), chat: privateChat(STRANGER + 3), from: person(STRANGER + 3), photo: [{ file_id: "x", file_unique_id: "y", width: 1, height: 1 }], caption: `/disarm ${"c".repeat(10_000)}` } }],
  ["a stranger's 100,000-character text", { message: msg(privateChat(STRANGER + 4), person(STRANGER + 4), `/status ${"x".repeat(100_000)}`) }],
  ["a stranger's text with lone surrogates, NUL and direction overrides", { message: msg(privateChat(STRANGER + 5), person(STRANGER + 5), "/disarm \ud800\u0000\u202e\ufffe") }],
  ["a stranger's /start with a 10,000-character code", { message: msg(privateChat(STRANGER + 6), person(STRANGER + 6), `/start ${"A".repeat(10_000)}`) }],
];

/** Odd commands and buttons from the household: each gets a sane answer or none, and changes nothing. */
const oddButHousehold: [string, UpdateBody][] = [
  ["/clip with a 20-digit length", updates.text(CHAT, "/clip 99999999999999999999")],
  ["/clip with a negative length", updates.text(CHAT, "/clip -5")],
  ["/snapshot of a path", updates.text(CHAT, "/snapshot ../../etc/passwd")],
  ["/snapshot of HTML", updates.text(CHAT, `/snapshot <b>${"x".repeat(5_000)}</b>`)],
  ["/snooze of 100,000 digits", updates.text(CHAT, `/snooze ${"9".repeat(100_000)}`)],
  ["/snooze of nothing much", updates.text(CHAT, "/snooze 0m")],
  ["/snooze of eight days", updates.text(CHAT, "/snooze 8d")],
  ["a command for another bot", updates.text(GROUP, "/disarm@some_other_bot", 4242)],
  ["an unknown command", updates.text(CHAT, "/format_disk now")],
  ["/start without a code", updates.text(CHAT, "/start")],
  ["a command with a text that is a number", { message: { ...msg(privateChat(CHAT), person(CHAT), "/status"), text: 42 } }],
  ["a command entity past the text's end", { message: msg(privateChat(CHAT), person(CHAT), "/st", { entities: [{ offset: 0, length: 99, type: "bot_command" }] }) }],
  ["a command dated in the far future", { message: msg(privateChat(CHAT), person(CHAT), "/status", { date: 2 ** 40 }) }],
  ["a command with a date that is text", { message: msg(privateChat(CHAT), person(CHAT), "/status", { date: "yesterday" }) }],
  ["an edited command", { edited_message: { ...msg(privateChat(CHAT), person(CHAT), "/status"), edit_date: now() } }],
  ["a kind Telegram has not invented yet, in an allowed chat", { future_kind: { chat: privateChat(CHAT), from: person(CHAT), text: "/disarm" } }],
  ["a forged button", press(privateChat(CHAT), person(CHAT), "format-disk")],
  ["a snooze button of 1 s", press(privateChat(CHAT), person(CHAT), "snooze:1")],
  ["a snooze button of 100 days", press(privateChat(CHAT), person(CHAT), "snooze:8640000")],
  ["a clip button for a path", press(privateChat(CHAT), person(CHAT), "clip:../../etc")],
  ["a snapshot button for a 200-character camera", press(privateChat(CHAT), person(CHAT), `snap:${"a".repeat(200)}`)],
  ["a button without data (a game)", { callback_query: { ...press(privateChat(CHAT), person(CHAT), undefined).callback_query, game_short_name: "g" } }],
  ["a button with 10,000 bytes of data", press(privateChat(CHAT), person(CHAT), "d".repeat(10_000))],
  ["a button that is a number", press(privateChat(CHAT), person(CHAT), 7)],
  ["a button on an inline message (no chat)", { callback_query: { id: "9", from: person(CHAT), chat_instance: "1", inline_message_id: "abc", data: "disarm" } }],
];

const textOf = (c: ApiCall) => String(c.params.text ?? c.params.caption ?? "");

describe("the bot meets Telegram updates of every unexpected shape", () => {
  it("acts on none from strangers, bots, channels or broken updates, answers the household's odd commands sanely, logs each, and stays up", async () => {
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN, services: ["bot"], env: { PICKET_LOG_LEVEL: "debug" } });
    await bot.waitForMsg(/^bot (is )?polling/);
    const ids = new Map<number, string>();
    for (const [what, u] of [...refused, ...oddButHousehold]) ids.set(double.pushUpdate(u), what);
    // The household's own command after all of them: in order, so its answer means every one was handled.
    double.pushUpdate(updates.text(CHAT, "/status"));
    await double.waitForCalls("sendMessage", 1, 30_000, (c) => c.chatId === String(CHAT) && /^Picket on /.test(textOf(c)));
    await new Promise((r) => setTimeout(r, 500));

    // Strangers: the one polite refusal per private chat at most (or the answer to what looked
    // like a pairing code); groups and channels nothing; no photo, no video.
    const toStrangers = double.calls().filter((c) => c.chatId !== undefined && !ALLOWED.includes(c.chatId));
    for (const c of toStrangers) {
      expect(c.method, `${c.method} to ${c.chatId}`).toBe("sendMessage");
      expect(Number(c.chatId)).toBeGreaterThan(0);
      expect(textOf(c)).toMatch(/^This is a private Picket bot|^There is no pairing code waiting/);
    }
    expect(new Set(toStrangers.map((c) => c.chatId)).size).toBe(toStrangers.length);
    // Nothing the house does changed: no arming, no snooze, no clip or photo asked for.
    const kv = await openSettings(nc);
    expect((await kv.get(settingsKeys.arming(stack.device)))?.string() ?? "").not.toMatch(/disarmed/);
    expect(await kv.get(settingsKeys.snooze(stack.device))).toBeNull();
    const household = double.calls().filter((c) => c.chatId !== undefined && ALLOWED.includes(c.chatId));
    expect(household.filter((c) => c.method !== "sendMessage")).toEqual([]);
    expect(household.map(textOf).filter((t) => /disarmed|snoozed for/.test(t))).toEqual([]);
    // Every answer was one Telegram takes: plain text within 4096 characters.
    for (const c of double.calls("sendMessage")) {
      expect(c.status, textOf(c).slice(0, 80)).toBe(200);
      expect(c.params.parse_mode).toBeUndefined();
    }
    // Answers the household gets to odd input say what is wrong.
    const said = household.map(textOf).join("\n");
    for (const hint of [/A clip is 1 to 60 seconds long/, /No camera called "\.\.\/\.\.\/etc\/passwd"/, /is not a duration/, /out of range: from 1 minute to 7 days/]) expect(said).toMatch(hint);
    expect(double.calls("answerCallbackQuery").map((c) => c.params.text)).toEqual(expect.arrayContaining(["Unknown button"]));

    // Each refused update was logged with its id and why.
    const ignored = bot.logs.filter((l) => /^ignored update/.test(l.msg));
    for (const [id, what] of [...ids].filter(([, what]) => refused.some(([w]) => w === what))) {
      const line = ignored.find((l) => l.updateId === id);
      expect(line, what).toBeDefined();
      expect(typeof line?.reason, what).toBe("string");
    }
    // No update crashed anything: at most a clear error line for what telegraf could not read
    // (a household message whose text is a number).
    const errors = bot.logs.filter((l) => l.level === "error" || l.level === "fatal");
    for (const e of errors) expect(e.msg).toBe("update handling failed");
    expect(bot.logs.some((l) => l.level === "fatal")).toBe(false);
    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);

    recordReliability("bad-input-telegram-updates", {
      kind: "bad-input",
      family: "Telegram updates of unexpected shapes to the real bot (strangers, bots, channels, edits, unknown kinds, broken fields, forged buttons, huge and odd texts)",
      cases: refused.length + oddButHousehold.length,
      outcome: `${refused.length} refused and logged with a reason (a stranger's private chat gets one polite refusal, nothing else); ${oddButHousehold.length} odd commands and buttons from the household answered with a hint or ignored, nothing changed; the bot answered its next command`,
    });
  });

  it("refuses pairing-code brute force: 3 tries per chat per 10 minutes, 5 guesses per code, at most 20 answers a minute to strangers", async () => {
    const { stack, double, bot } = await startBotStack(cleanups, { token: TOKEN, services: ["bot"] });
    await bot.waitForMsg(/^bot (is )?polling/);
    const made = await runCli("bot-cli.js", stack.nats.url, "pair");
    const code = /\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b/.exec(made.out)?.[1] as string;
    expect(code).toBeDefined();
    const wrong = code.startsWith("2222") ? "3333-3333" : "2222-2222";
    const answersTo = async (chat: number, n: number) => (await double.waitForCalls("sendMessage", n, 20_000, (c) => c.chatId === String(chat) && ok(c))).map(textOf);
    let attempts = 0;
    const start = (chat: number, typed: string) => {
      attempts++;
      double.pushUpdate(updates.text(chat, `/start ${typed}`));
    };

    // One chat: three guesses, then it must wait (its fourth costs the code nothing).
    // (Telegram hands them over in one batch: they are answered in any order.)
    for (let i = 0; i < 4; i++) start(555, wrong);
    expect((await answersTo(555, 4)).sort()).toEqual(["Too many tries from this chat. Try again in 10 min.", "Wrong code. 2 tries left.", "Wrong code. 3 tries left.", "Wrong code. 4 tries left."]);
    // Another chat spends the last two: then even the right code is dead.
    start(556, wrong);
    start(556, wrong);
    const [one, last] = await answersTo(556, 2);
    expect(one).toBe("Wrong code. 1 tries left.");
    expect(last).toMatch(/^Wrong code\. That was its last try/);
    start(557, code);
    expect(await answersTo(557, 1)).toEqual([expect.stringMatching(/took too many wrong tries and no longer works/)]);
    // A crowd of strangers: 20 answers a minute at most, the rest logged and left unanswered.
    for (let chat = 600; chat < 625; chat++) start(chat, code);
    await double.waitForCalls("sendMessage", 20, 30_000, (c) => ok(c) && /^\/start|tries|no longer works|no pairing/.test(textOf(c)) && Number(c.chatId) >= 555);
    await bot.waitForLog((l) => l.msg === "too many pairing attempts from strangers; this one gets no answer" && bot.logs.filter((m) => m.msg === l.msg).length === 12, 20_000, "12 unanswered attempts");
    await new Promise((r) => setTimeout(r, 500));
    const toStrangers = double.calls("sendMessage").filter((c) => Number(c.chatId) >= 555);
    expect(toStrangers).toHaveLength(20);
    // Nobody got in.
    const chats = await runCli("bot-cli.js", stack.nats.url, "chats");
    expect(chats.out).not.toMatch(/^(55[5-7]|6\d\d)\s/m);
    expect(bot.logs.filter((l) => l.msg === "chat paired")).toEqual([]);
    expect(bot.logs.filter((l) => l.msg === "pairing refused").length).toBeGreaterThanOrEqual(5);
    expect((await stack.stop()).bot?.code).toBe(0);
    expectNoSecret(bot);

    recordReliability("bad-input-pairing-brute-force", {
      kind: "bad-input",
      family: "pairing-code brute force through the bot (one chat guessing fast, several chats sharing the guesses, a crowd of strangers)",
      cases: attempts,
      outcome: "no chat paired; a chat's 4th try in 10 minutes refused without costing a guess; the code dead after 5 wrong guesses, even for the right one; at most 20 answers a minute to strangers, the rest logged and unanswered",
    });
  });
});
