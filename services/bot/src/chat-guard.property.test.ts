import { describe, expect, it } from "vitest";
import { botInputFamilies } from "../../../test/bad-input/properties/bot-input.js";
import { propertyTests } from "../../../test/bad-input/properties/unit.js";
import { checkUpdate } from "./chat-guard.js";

propertyTests(botInputFamilies);

describe("bad input regressions: the update guard", () => {
  const allowed = new Set([111]);
  const person = (id: number) => ({ id, is_bot: false, first_name: "X" });

  it("ignores an update with two payloads: telegraf would act on the other one's chat", () => {
    const forged = {
      update_id: 1,
      edited_message: { message_id: 1, date: 0, chat: { id: 111, type: "private" }, from: person(111), text: "hi" },
      message: { message_id: 2, date: 0, chat: { id: 999, type: "private" }, from: person(999), text: "/disarm", entities: [{ type: "bot_command", offset: 0, length: 7 }] },
    };
    expect(checkUpdate(forged, allowed)).toEqual({ allowed: false, reason: "no-chat" });
  });

  it("reads a nested message's chat only for callback queries", () => {
    expect(checkUpdate({ update_id: 1, message: { from: person(111), message: { chat: { id: 111 } } } }, allowed)).toEqual({ allowed: false, reason: "no-chat" });
    expect(checkUpdate({ update_id: 1, callback_query: { id: "q", from: person(111), data: "disarm", message: { chat: { id: 111 } } } }, allowed)).toEqual({ allowed: true, chatId: 111, fromId: 111 });
  });
});
