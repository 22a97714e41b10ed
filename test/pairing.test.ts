import { telegramKeys } from "@picket/contracts";
import { createLogger, openSettings, type KV, type NatsConnection } from "@picket/runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPairingCode, openPairedChats, type ChatInfo, type PairedChats, type PairedChatsChange } from "@picket/runtime";
import { testBus } from "./support/bus.js";
import { startNats, type NatsServer } from "./support/nats.js";
import { waitFor } from "./support/ports.js";
import { runCli } from "./support/services.js";

const log = createLogger({ service: "test", device: "test", level: "silent" });
const HOUR = 3_600_000;
const ann: ChatInfo = { id: 111, title: "Ann", type: "private" };
const family: ChatInfo = { id: -1001234567890, title: "Family", type: "supergroup" };

let nats: NatsServer;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats.dispose();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A bot's view of the household's chats, on its own connection, as a second device's bot would have. */
async function bot(): Promise<{ nc: NatsConnection; kv: KV; chats: PairedChats }> {
  const nc = await testBus(nats.url);
  cleanups.push(() => nc.close());
  const kv = await openSettings(nc);
  const chats = await openPairedChats(kv, log);
  cleanups.push(async () => chats.stop());
  return { nc, kv, chats };
}

/** Starts every test from an empty household: no paired chats, no code. */
async function emptyHousehold(kv: KV): Promise<void> {
  for await (const key of await kv.keys("telegram.>")) await kv.purge(key);
}

const cli = (...args: string[]) => runCli("bot-cli.js", nats.url, ...args);

describe("pairing a Telegram chat", () => {
  it("a code pairs the chat, every bot sees it at once, and the code works only once", async () => {
    const a = await bot();
    await emptyHousehold(a.kv);
    const b = await bot();
    const seen: PairedChatsChange[] = [];
    b.chats.onChange((c) => seen.push(c));
    const { code, expiresAt } = await createPairingCode(a.kv, "cli");
    expect(expiresAt).toBeGreaterThan(Date.now() + HOUR - 60_000);

    expect(await a.chats.redeem(ann, code.toLowerCase(), "telegram:42")).toMatchObject({ ok: true, already: false, chat: { id: 111, title: "Ann", source: "code", by: "telegram:42" } });
    expect(a.chats.has(111)).toBe(true);
    await waitFor("the other bot to see the chat", () => b.chats.has(111));
    expect(seen).toEqual([{ chatId: 111, chat: expect.objectContaining({ id: 111, type: "private" }) }]);

    expect(await b.chats.redeem(family, code, "telegram:43")).toEqual({ ok: false, reason: "no-code" });
    expect(b.chats.has(family.id)).toBe(false);
    expect(await a.chats.redeem(ann, code, "telegram:42")).toMatchObject({ ok: true, already: true });
    // A bot started later reads the chat from the bucket.
    expect((await bot()).chats.ids()).toEqual([111]);
  });

  it("refuses a wrong code and counts the tries down; after five even the right code is refused", async () => {
    const { kv, chats } = await bot();
    await emptyHousehold(kv);
    const { code } = await createPairingCode(kv, "cli");
    const wrong = code.startsWith("2") ? "3333-3333" : "2222-2222";
    for (const left of [4, 3, 2, 1, 0]) expect(await chats.redeem(family, wrong, "telegram:666")).toEqual({ ok: false, reason: "wrong", attemptsLeft: left });
    expect(await chats.redeem(ann, code, "telegram:42")).toEqual({ ok: false, reason: "used-up" });
    expect(await chats.redeem(ann, "hello", "telegram:42")).toEqual({ ok: false, reason: "used-up" });
    expect(chats.ids()).toEqual([]);
  });

  it("refuses an expired code, and text that is no code costs no try", async () => {
    const { kv, chats } = await bot();
    await emptyHousehold(kv);
    const now = Date.now();
    const { code } = await createPairingCode(kv, "cli", now);
    expect(await chats.redeem(ann, "not a code", "telegram:42", now)).toEqual({ ok: false, reason: "not-a-code" });
    expect(await chats.redeem(ann, code, "telegram:42", now + HOUR)).toEqual({ ok: false, reason: "expired" });
    expect(chats.has(ann.id)).toBe(false);
    expect(await chats.redeem(ann, code, "telegram:42", now + HOUR - 1)).toMatchObject({ ok: true });
  });

  it("of two redemptions of one code at the same moment, exactly one wins", async () => {
    const a = await bot();
    const b = await bot();
    for (let round = 0; round < 5; round++) {
      await emptyHousehold(a.kv);
      await waitFor("both bots to see no chats", () => a.chats.ids().length + b.chats.ids().length === 0);
      const { code } = await createPairingCode(a.kv, "cli");
      const results = await Promise.all([a.chats.redeem(ann, code, "telegram:42"), b.chats.redeem(family, code, "telegram:43")]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: "no-code" }]);
      const winner = results[0]?.ok === true ? ann.id : family.id;
      await waitFor("both bots to see the one winner", () => a.chats.has(winner) && b.chats.has(winner));
      expect(a.chats.ids()).toEqual([winner]);
    }
  });

  it("wrong guesses at the same moment each cost a try", async () => {
    const a = await bot();
    const b = await bot();
    await emptyHousehold(a.kv);
    const { code } = await createPairingCode(a.kv, "cli");
    const wrong = code.startsWith("2") ? "3333-3333" : "2222-2222";
    const results = await Promise.all([a, b, a, b].map((x, i) => x.chats.redeem({ id: 900 + i, title: "", type: "private" }, wrong, "telegram:666")));
    expect(results.map((r) => (r.ok ? -1 : r.attemptsLeft)).sort()).toEqual([1, 2, 3, 4]);
    expect(await a.chats.redeem(ann, wrong, "telegram:42")).toEqual({ ok: false, reason: "wrong", attemptsLeft: 0 });
  });

  it("unpairs a chat for every bot, and says when a chat was not paired", async () => {
    const a = await bot();
    await emptyHousehold(a.kv);
    const b = await bot();
    await a.chats.pair({ ...family, pairedAt: Date.now(), by: "cli", source: "code" });
    await waitFor("the other bot to see the chat", () => b.chats.has(family.id));
    expect(await b.chats.unpair(family.id)).toMatchObject({ id: family.id, title: "Family" });
    expect(b.chats.has(family.id)).toBe(false);
    await waitFor("the first bot to see the chat go", () => !a.chats.has(family.id));
    expect(await a.chats.unpair(family.id)).toBeUndefined();
    expect(await a.chats.unpair(222)).toBeUndefined();
  });

  it("lists PICKET_TELEGRAM_CHATS as config chats, keeps code-paired ones, and drops config chats no longer listed", async () => {
    const { kv, chats } = await bot();
    await emptyHousehold(kv);
    await chats.pair({ ...ann, pairedAt: 1, by: "telegram:42", source: "code" });
    expect(await chats.seed([111, -222, 333])).toEqual({ added: [-222, 333], removed: [] });
    expect(chats.list().map((c) => [c.id, c.type, c.source])).toEqual([[-222, "group", "config"], [111, "private", "code"], [333, "private", "config"]]);
    expect(await chats.seed([-222])).toEqual({ added: [], removed: [333] });
    expect(chats.ids()).toEqual([-222, 111]);
  });

  it("counts a stored chat that does not read as not paired", async () => {
    const { kv, chats } = await bot();
    await emptyHousehold(kv);
    // The earlier tests' chats go as this bot sees their keys purged.
    await waitFor("the household empty", () => chats.ids().length === 0);
    await kv.put(telegramKeys.chat(444), JSON.stringify({ id: 444, title: "x", type: "private", pairedAt: 1, by: "cli", source: "code", admin: true }));
    await kv.put(telegramKeys.chat(555), JSON.stringify({ id: 556, title: "x", type: "private", pairedAt: 1, by: "cli", source: "code" }));
    await kv.put(telegramKeys.chat(666), JSON.stringify({ id: 666, title: "ok", type: "private", pairedAt: 1, by: "cli", source: "code" }));
    await waitFor("the readable chat", () => chats.has(666));
    expect(chats.ids()).toEqual([666]);
  });
});

describe("npm run bot", () => {
  it("pair prints a code that pairs the chat, chats lists it, unpair removes it", async () => {
    const { kv, chats } = await bot();
    await emptyHousehold(kv);
    expect(await cli("chats")).toMatchObject({ code: 0, out: expect.stringContaining("No paired chats") });

    const paired = await cli("pair");
    expect(paired.code).toBe(0);
    const code = /Pairing code: ([2-9A-Z]{4}-[2-9A-Z]{4}) \(one use, until \d{4}-\d\d-\d\d \d\d:\d\d/.exec(paired.out)?.[1];
    expect(code).toBeDefined();
    expect(paired.out).toContain(`Send /start ${code} to your bot in a private chat, or /start@<your bot's username> ${code} in a group.`);
    expect(await chats.redeem(family, code as string, "telegram:42")).toMatchObject({ ok: true });
    await chats.seed([111]);

    const listed = await cli("chats");
    expect(listed.code).toBe(0);
    const lines = listed.out.trim().split("\n");
    expect(lines[0]).toMatch(/^chat id\s+type\s+title\s+paired\s+by$/);
    expect(lines[1]).toMatch(/^-1001234567890\s+supergroup\s+Family\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+telegram:42$/);
    expect(lines[2]).toMatch(/^111\s+private\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+PICKET_TELEGRAM_CHATS$/);

    const removed = await cli("unpair", String(family.id));
    expect(removed).toMatchObject({ code: 0, out: expect.stringContaining("unpaired chat -1001234567890 (Family)") });
    await waitFor("the bot to see the chat go", () => !chats.has(family.id));
    const fromConfig = await cli("unpair", "111");
    expect(fromConfig).toMatchObject({ code: 0, out: expect.stringContaining("comes back at the bot's next start unless you remove it from that variable") });
    await waitFor("the config chat to go", () => chats.ids().length === 0);
  });

  it("says so when a chat is not paired, and explains usage, with exit code 2", async () => {
    const { kv } = await bot();
    await emptyHousehold(kv);
    expect(await cli("unpair", "999")).toMatchObject({ code: 2, err: expect.stringContaining("chat 999 is not paired") });
    for (const args of [[], ["unpair"], ["unpair", "abc"], ["pair", "now"], ["chats", "all"], ["frobnicate"]]) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toMatch(/usage: npm run bot -- pair \| chats \| unpair <chat id>/);
    }
  });
});
