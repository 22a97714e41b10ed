import type { PresenceEvent } from "@picket/contracts";
import { Backoff, createLogger } from "@picket/runtime";
import { TelegramError } from "telegraf";
import { describe, expect, it } from "vitest";
import { AlertDelivery, type AlertPorts } from "./alert-delivery.js";
import { ChatOutbox } from "./chat-outbox.js";
import { kvDeliveryLog, type DeliveryLog } from "./delivery-log.js";
import { jpegHead } from "./testing.js";
import { SendPacer } from "./send-pacer.js";
import type { Snapshot } from "./snapshot-client.js";

const log = createLogger({ service: "bot", device: "test", level: "silent" });
const signal = new AbortController().signal;
const jpeg = jpegHead(1280, 720);
const event = (id = "ev-0000000001"): PresenceEvent => ({ id, kind: "presence", state: "started", device: "cam", at: 0, triggers: ["pir"], test: false });
const tgError = (code: number, retryAfter?: number) =>
  new TelegramError({ error_code: code, description: `error ${code}`, ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }) });

/** Fake ports: records sends; `failures` maps a chat to the errors its next sends throw. */
function fakePorts(snapshots: Snapshot[] = [{ ok: true, jpeg }]) {
  const sent: { kind: "photo" | "text"; chat: number; text: string; silent: boolean }[] = [];
  const failures = new Map<number, Error[]>();
  let snapshotCalls = 0;
  const maybeFail = (chat: number) => {
    const err = failures.get(chat)?.shift();
    if (err !== undefined) throw err;
  };
  const ports: AlertPorts = {
    async photo() {
      snapshotCalls++;
      return snapshots[Math.min(snapshotCalls, snapshots.length) - 1] as Snapshot;
    },
    async sendPhoto(chat, _jpeg, caption, _signal, silent) {
      maybeFail(chat);
      sent.push({ kind: "photo", chat, text: caption, silent });
      return sent.length;
    },
    async sendText(chat, text, _signal, silent) {
      maybeFail(chat);
      sent.push({ kind: "text", chat, text, silent });
      return sent.length;
    },
  };
  return { ports, sent, failures, snapshots: () => snapshotCalls };
}

/** A delivery over a real outbox, without Telegram's pacing and with short retries. */
function delivery(ports: AlertPorts, record: DeliveryLog = kvDeliveryLog(undefined, log), paired: (chat: number) => boolean = () => true) {
  const outbox = new ChatOutbox({ log, pacer: new SendPacer({ perChatMs: 0, perGroupPerMinute: 1_000, globalPerSecond: 1_000 }), backoff: () => new Backoff({ initialMs: 5, maxMs: 20, jitter: 0 }) });
  return { d: new AlertDelivery({ ports, outbox, record, isPaired: paired, log, timeZone: "UTC" }), outbox, record };
}

describe("AlertDelivery", () => {
  it("sends one photo to every chat, with the caption naming the device, and records each message", async () => {
    const f = fakePorts();
    const { d } = delivery(f.ports);
    const out = await d.deliver(event(), [111, -222], signal);
    expect(out).toEqual({ sentTo: [111, -222], already: [], gaveUp: [], photo: true });
    expect(f.sent.map((s) => [s.kind, s.chat])).toEqual([["photo", 111], ["photo", -222]]);
    expect(f.sent[0]?.text).toContain("cam");
    expect(await d.alertMessages(event().id)).toEqual(new Map([[111, 1], [-222, 2]]));
    expect(d.pending).toBe(0);
  });

  it("sends a redelivered alert only to the chats missing it, also after a restart, with one picture taken", async () => {
    const f = fakePorts([{ ok: true, jpeg }, { ok: false, reason: "should not be asked again" }]);
    const record = kvDeliveryLog(undefined, log);
    const first = delivery(f.ports, record);
    expect((await first.d.deliver(event(), [111], signal)).sentTo).toEqual([111]);
    expect(await first.d.deliver(event(), [111], signal)).toEqual({ sentTo: [], already: [111], gaveUp: [], photo: false });
    // A new bot (same durable record): the chat paired since gets it, the other does not get it twice.
    const f2 = fakePorts();
    const second = delivery(f2.ports, record);
    expect(await second.d.deliver(event(), [111, -222], signal)).toMatchObject({ sentTo: [-222], already: [111] });
    expect(f.sent.map((s) => s.chat)).toEqual([111]);
    expect(f2.sent.map((s) => s.chat)).toEqual([-222]);
  });

  it("retries a chat whose sends fail until they get through, the other chat unaffected, one picture for both", async () => {
    const f = fakePorts([{ ok: true, jpeg }, { ok: false, reason: "should not be asked again" }]);
    f.failures.set(-222, [tgError(502), tgError(500), new Error("read ECONNRESET")]);
    const { d } = delivery(f.ports);
    const out = await d.deliver(event(), [111, -222], signal);
    expect(out).toMatchObject({ sentTo: [111, -222], photo: true });
    expect(f.sent.map((s) => [s.kind, s.chat])).toEqual([["photo", 111], ["photo", -222]]);
    expect(f.snapshots()).toBe(1);
  });

  it("keeps each chat's alerts in event order while one chat is failing", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(500), tgError(500), tgError(500)]);
    const { d } = delivery(f.ports);
    const all = ["ev-00000001", "ev-00000002", "ev-00000003"].map((id) => d.deliver({ ...event(id), at: Number(id.slice(-1)) * 1000 }, [111, -222], signal));
    await Promise.all(all);
    const order = (chat: number) => f.sent.filter((s) => s.chat === chat).map((s) => s.text.match(/00:00:0\d/)?.[0]);
    expect(order(111)).toEqual(["00:00:01", "00:00:02", "00:00:03"]);
    expect(order(-222)).toEqual(["00:00:01", "00:00:02", "00:00:03"]);
  });

  it("sends text saying why when the picture is more than Telegram takes as a photo", async () => {
    const f = fakePorts([{ ok: true, jpeg: jpegHead(1280, 720, 11 * 1024 * 1024) }]);
    const { d } = delivery(f.ports);
    expect(await d.deliver(event(), [111], signal)).toMatchObject({ sentTo: [111], photo: false });
    expect(f.sent[0]).toMatchObject({ kind: "text", chat: 111 });
    expect(f.sent[0]?.text).toMatch(/no photo: the photo is 11\.0 MB/);
  });

  it("sends text when the camera has no picture", async () => {
    const f = fakePorts([{ ok: false, reason: "no picture yet: the camera is starting" }]);
    const { d } = delivery(f.ports);
    expect(await d.deliver(event(), [111], signal)).toMatchObject({ sentTo: [111], photo: false });
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]).toMatchObject({ kind: "text", chat: 111 });
    expect(f.sent[0]?.text).toContain("(no photo: no picture yet: the camera is starting)");
  });

  it("falls back to text when Telegram refuses the photo, and gives up on a chat that blocked the bot", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(400)]);
    f.failures.set(-222, [tgError(403)]);
    const { d } = delivery(f.ports);
    const out = await d.deliver(event(), [111, -222], signal);
    expect(out).toEqual({ sentTo: [111], already: [], gaveUp: [-222], photo: false });
    expect(f.sent).toEqual([expect.objectContaining({ kind: "text", chat: 111 })]);
    expect(await d.alertMessages(event().id)).toEqual(new Map([[111, 1]]));
  });

  it("keeps an alert for later when the bot itself cannot send (token revoked), recording no chat as refused", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(401)]);
    const record = kvDeliveryLog(undefined, log);
    const { d } = delivery(f.ports, record);
    await expect(d.deliver(event(), [111], signal)).rejects.toMatchObject({ kind: "fatal", code: 401 });
    expect((await record.get(event().id))?.chats["111"]).toBeUndefined();
    // Once the token works again, the redelivered alert goes out.
    expect(await delivery(f.ports, record).d.deliver(event(), [111], signal)).toMatchObject({ sentTo: [111] });
  });

  it("drops an alert stuck for a chat that was unpaired meanwhile", async () => {
    const f = fakePorts();
    f.failures.set(111, Array.from({ length: 50 }, () => tgError(500)));
    let paired = true;
    const { d } = delivery(f.ports, undefined, () => paired);
    const out = d.deliver(event(), [111], signal);
    await new Promise((r) => setTimeout(r, 30));
    paired = false;
    expect(await out).toMatchObject({ sentTo: [], gaveUp: [111] });
    expect(f.sent).toEqual([]);
  });

  it("sends a silent alert without sound to every chat, photo or text, and a normal one with sound", async () => {
    const f = fakePorts([{ ok: true, jpeg }, { ok: false, reason: "the camera is starting" }]);
    const { d } = delivery(f.ports);
    await d.deliver(event("ev-00000001"), [111, -222], signal, { silent: true });
    await d.deliver(event("ev-00000002"), [111], signal, { silent: true });
    await d.deliver(event("ev-00000003"), [111], signal);
    expect(f.sent.map((s) => [s.kind, s.chat, s.silent])).toEqual([
      ["photo", 111, true],
      ["photo", -222, true],
      ["text", 111, true],
      ["text", 111, false],
    ]);
  });

  it("remembers a snoozed alert, so its clip is not sent", async () => {
    const { d } = delivery(fakePorts().ports);
    await d.snoozed(event().id);
    expect(await d.alertMessages(event().id)).toBe("snoozed");
    expect(await d.alertMessages("ev-unknown-1")).toBeUndefined();
  });
});
