import { createLogger, type KV } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvDeliveryLog, openBotState } from "../services/bot/src/delivery-log.js";
import { testBus } from "./support/bus.js";
import { startNats, type NatsServer } from "./support/nats.js";

const log = createLogger({ service: "test", device: "test", level: "silent" });
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats.dispose();
});

/** The real bucket, whose next `failures` reads fail as when the broker is away. */
function flaky(kv: KV, failures: number): KV {
  let left = failures;
  return new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop === "get") {
        return (...args: Parameters<KV["get"]>) => {
          if (left-- > 0) return Promise.reject(new Error("TIMEOUT"));
          return target.get(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe("the bot's delivery record (picket-bot bucket)", () => {
  it("never writes over a stored record it could not read: it reads again and keeps both chats, or writes nothing", async () => {
    const nc = await testBus(nats.url);
    try {
      const kv = await openBotState(nc);
      await kvDeliveryLog(kv, log).update("ev-00000001", (r) => (r.chats["111"] = { msg: 1 }));
      await kvDeliveryLog(kv, log).update("ev-00000002", (r) => (r.chats["111"] = { msg: 1 }));

      // A restarted bot whose first read fails, then works: the chat already served stays.
      const once = kvDeliveryLog(flaky(kv, 1), log);
      expect(await once.get("ev-00000001")).toBeUndefined();
      await once.update("ev-00000001", (r) => (r.chats["-222"] = { msg: 2 }));
      expect((await kvDeliveryLog(kv, log).get("ev-00000001"))?.chats).toEqual({ "111": { msg: 1 }, "-222": { msg: 2 } });

      // Reads keep failing: nothing is written over the stored record.
      const down = kvDeliveryLog(flaky(kv, 100), log);
      await down.update("ev-00000002", (r) => (r.chats["-222"] = { msg: 3 }));
      expect((await kvDeliveryLog(kv, log).get("ev-00000002"))?.chats).toEqual({ "111": { msg: 1 } });
      // This run still knows what it sent.
      expect((await down.get("ev-00000002"))?.chats["-222"]).toEqual({ msg: 3 });
    } finally {
      await nc.close();
    }
  });
});
