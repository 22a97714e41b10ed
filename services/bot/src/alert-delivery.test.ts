import type { PresenceEvent } from "@picket/contracts";
import { Backoff, createLogger } from "@picket/runtime";
import { TelegramError } from "telegraf";
import { describe, expect, it } from "vitest";
import { AlertDelivery, type AlertPorts } from "./alert-delivery.js";
import type { Snapshot } from "./snapshot-client.js";

const log = createLogger({ service: "bot", device: "test", level: "silent" });
const signal = new AbortController().signal;
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
const event = (id = "ev-0000000001"): PresenceEvent => ({ id, kind: "presence", state: "started", device: "cam", at: 0, triggers: ["pir"], test: false });
const tgError = (code: number, retryAfter?: number) =>
  new TelegramError({ error_code: code, description: `error ${code}`, ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }) });

/** Fake ports: records sends; `failures` maps a chat to the errors its next sends throw. */
function fakePorts(snapshots: Snapshot[] = [{ ok: true, jpeg }]) {
  const sent: { kind: "photo" | "text"; chat: number; text: string }[] = [];
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
    async sendPhoto(chat, _jpeg, caption) {
      maybeFail(chat);
      sent.push({ kind: "photo", chat, text: caption });
    },
    async sendText(chat, text) {
      maybeFail(chat);
      sent.push({ kind: "text", chat, text });
    },
  };
  return { ports, sent, failures, snapshots: () => snapshotCalls };
}

const noJitter = () => new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });

describe("AlertDelivery", () => {
  it("sends one photo to every chat and is done", async () => {
    const f = fakePorts();
    const d = new AlertDelivery({ chats: [111, -222], ports: f.ports, log, timeZone: "UTC" });
    const out = await d.deliver(event(), signal);
    expect(out).toEqual({ kind: "delivered", sentTo: [111, -222], gaveUp: [], photo: true });
    expect(f.sent.map((s) => [s.kind, s.chat])).toEqual([["photo", 111], ["photo", -222]]);
    expect(f.sent[0]?.text).toContain("cam");
    expect(d.tracked).toBe(0);
  });

  it("acks a redelivery of an event every chat already has without sending it again", async () => {
    const f = fakePorts();
    const d = new AlertDelivery({ chats: [111, -222], ports: f.ports, log, timeZone: "UTC" });
    await d.deliver(event(), signal);
    expect(await d.deliver(event(), signal)).toEqual({ kind: "duplicate" });
    expect(f.sent).toHaveLength(2);
    expect(f.snapshots()).toBe(1);
  });

  it("on redelivery sends only to the chats that did not get it, with the same photo", async () => {
    const f = fakePorts([{ ok: true, jpeg }, { ok: false, reason: "should not be asked again" }]);
    f.failures.set(-222, [tgError(502)]);
    const d = new AlertDelivery({ chats: [111, -222], ports: f.ports, log, backoff: noJitter });
    const first = await d.deliver(event(), signal);
    expect(first).toMatchObject({ kind: "retry", delayMs: 100, pending: [-222] });
    expect(d.tracked).toBe(1);
    const second = await d.deliver(event(), signal);
    expect(second).toMatchObject({ kind: "delivered", sentTo: [111, -222] });
    expect(f.sent.map((s) => s.chat)).toEqual([111, -222]);
    expect(f.snapshots()).toBe(1);
  });

  it("waits at least Telegram's retry_after on 429, and backs off on repeated failures", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(429, 3), tgError(500), tgError(500)]);
    const d = new AlertDelivery({ chats: [111], ports: f.ports, log, backoff: noJitter });
    expect(await d.deliver(event(), signal)).toMatchObject({ kind: "retry", delayMs: 3000 });
    expect(await d.deliver(event(), signal)).toMatchObject({ kind: "retry", delayMs: 200 });
    expect(await d.deliver(event(), signal)).toMatchObject({ kind: "retry", delayMs: 400 });
    expect(await d.deliver(event(), signal)).toMatchObject({ kind: "delivered" });
  });

  it("sends text when the camera has no picture", async () => {
    const f = fakePorts([{ ok: false, reason: "no picture yet: the camera is starting" }]);
    const d = new AlertDelivery({ chats: [111], ports: f.ports, log });
    expect(await d.deliver(event(), signal)).toMatchObject({ kind: "delivered", photo: false });
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]).toMatchObject({ kind: "text", chat: 111 });
    expect(f.sent[0]?.text).toContain("(no photo: no picture yet: the camera is starting)");
  });

  it("falls back to text when Telegram refuses the photo, and gives up on a chat that refuses everything", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(400)]);
    f.failures.set(-222, [tgError(403), tgError(403)]);
    const d = new AlertDelivery({ chats: [111, -222], ports: f.ports, log });
    const out = await d.deliver(event(), signal);
    expect(out).toEqual({ kind: "delivered", sentTo: [111], gaveUp: [-222], photo: true });
    expect(f.sent).toEqual([expect.objectContaining({ kind: "text", chat: 111 })]);
  });

  it("keeps separate records per event and forgets the oldest past the limit", async () => {
    const f = fakePorts();
    f.failures.set(111, [tgError(500), tgError(500), tgError(500)]);
    const d = new AlertDelivery({ chats: [111], ports: f.ports, log, maxTracked: 2 });
    for (const id of ["ev-00000001", "ev-00000002", "ev-00000003"]) expect((await d.deliver(event(id), signal)).kind).toBe("retry");
    expect(d.tracked).toBe(2);
  });
});
