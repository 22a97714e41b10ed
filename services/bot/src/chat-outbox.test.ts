import { Backoff, createLogger } from "@picket/runtime";
import { FakeTimers } from "@picket/runtime/testing";
import { TelegramError } from "telegraf";
import { describe, expect, it } from "vitest";
import { ChatOutbox, JobDropped } from "./chat-outbox.js";
import { TelegramCallError } from "./telegram-errors.js";

const log = createLogger({ service: "bot", device: "test", level: "silent" });
const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};
const tgError = (code: number, retryAfter?: number) =>
  new TelegramError({ error_code: code, description: `error ${code}`, ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }) });

function setup() {
  const timers = new FakeTimers(0);
  const outbox = new ChatOutbox({ log, timers, backoff: () => new Backoff({ initialMs: 1_000, maxMs: 8_000, jitter: 0 }) });
  const sent: { chat: number; label: string; at: number }[] = [];
  const failures = new Map<string, Error[]>();
  const job = (chat: number, label: string, priority: 0 | 1 = 0, extra: { maxTries?: number; wanted?: () => boolean } = {}) =>
    outbox.enqueue(chat, {
      label,
      priority,
      ...extra,
      run: async () => {
        const err = failures.get(label)?.shift();
        if (err !== undefined) throw err;
        sent.push({ chat, label, at: timers.now() });
        return label;
      },
    });
  /** Moves time in 100 ms steps, letting the queue's promises run between steps. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await flush();
      timers.advance(100);
    }
    await flush();
  };
  return { timers, outbox, sent, failures, job, run };
}

describe("ChatOutbox", () => {
  it("sends a chat's jobs in order, a second apart, while another chat goes at once", async () => {
    const { sent, job, run } = setup();
    const done = [job(1, "a1"), job(1, "a2"), job(1, "a3"), job(2, "b1")];
    await run(2_500);
    expect(await Promise.all(done)).toEqual(["a1", "a2", "a3", "b1"]);
    expect(sent.filter((s) => s.chat === 1)).toEqual([
      { chat: 1, label: "a1", at: 0 },
      { chat: 1, label: "a2", at: 1_000 },
      { chat: 1, label: "a3", at: 2_000 },
    ]);
    expect(sent.find((s) => s.chat === 2)?.at).toBe(0);
  });

  it("retries a failing send before anything after it, waiting out a 429's retry_after, and one chat's outage does not hold up another", async () => {
    const { sent, failures, job, run } = setup();
    failures.set("a1", [tgError(500), tgError(429, 5), new Error("socket hang up")]);
    const a = [job(1, "a1"), job(1, "a2")];
    const b = job(2, "b1");
    await run(1_000);
    expect(sent.map((s) => s.label)).toEqual(["b1"]);
    await run(20_000);
    expect(await Promise.all([...a, b])).toEqual(["a1", "a2", "b1"]);
    expect(sent.filter((s) => s.chat === 1).map((s) => s.label)).toEqual(["a1", "a2"]);
    // 1 s backoff, then the 429's 5 s, then 4 s backoff: a1 gets through at 10 s at the earliest.
    expect(sent.find((s) => s.label === "a1")?.at).toBeGreaterThanOrEqual(10_000);
    await b;
  });

  it("a chat backing off after network errors tries again at once when a send to another chat works", async () => {
    const { sent, failures, job, run } = setup();
    failures.set("a1", [new Error("ECONNRESET"), new Error("ECONNRESET"), tgError(502)]);
    const a = job(1, "a1");
    // Tries at 0, 1 s and 3 s fail; the next would be at 7 s.
    await run(4_000);
    expect(sent).toEqual([]);
    const b = job(2, "b1");
    await run(200);
    expect(await Promise.all([a, b])).toEqual(["a1", "b1"]);
    expect(sent.find((x) => x.label === "a1")?.at).toBeLessThan(5_000);
  });

  it("rejects a job Telegram refuses for good, or that ran out of tries, and goes on with the next", async () => {
    const { sent, failures, job, run } = setup();
    failures.set("bad", [tgError(403)]);
    failures.set("flaky", [tgError(502), tgError(502)]);
    const bad = job(1, "bad");
    const flaky = job(1, "flaky", 1, { maxTries: 2 });
    const next = job(1, "next");
    const caught = [bad.catch((e: unknown) => e), flaky.catch((e: unknown) => e)];
    await run(10_000);
    const [badErr, flakyErr] = await Promise.all(caught);
    expect(badErr).toBeInstanceOf(TelegramCallError);
    expect((badErr as TelegramCallError).code).toBe(403);
    expect((flakyErr as TelegramCallError).code).toBe(502);
    expect(await next).toBe("next");
    expect(sent.map((s) => s.label)).toEqual(["next"]);
  });

  it("sends alerts before clips that were queued earlier", async () => {
    const { sent, job, run } = setup();
    const all = [job(1, "first"), job(1, "clip", 1), job(1, "alert", 0)];
    await run(3_000);
    await Promise.all(all);
    expect(sent.map((s) => s.label)).toEqual(["first", "alert", "clip"]);
  });

  it("drops a job whose chat was unpaired, and every job when stopped", async () => {
    const { outbox, failures, job, run } = setup();
    let paired = true;
    failures.set("x", [tgError(500)]);
    const x = job(1, "x", 0, { wanted: () => paired }).catch((e: unknown) => e);
    await run(100);
    paired = false;
    await run(5_000);
    expect(await x).toBeInstanceOf(JobDropped);

    failures.set("y", [tgError(500), tgError(500)]);
    const y = job(2, "y").catch((e: unknown) => e);
    const z = job(2, "z").catch((e: unknown) => e);
    await run(100);
    outbox.stop();
    await run(100);
    expect(await y).toBeInstanceOf(JobDropped);
    expect(await z).toBeInstanceOf(JobDropped);
    expect(outbox.pending()).toBe(0);
  });
});
