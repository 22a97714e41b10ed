import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JetStreamClient } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";
import { EventRecorder, type StorableEvent } from "./event-recorder.js";
import { createLogger } from "./logger.js";
import { EventOutbox } from "./outbox.js";

type Ev = StorableEvent & { n: number };
const ev = (n: number): Ev => ({ id: `ev-${n}`, device: "pi", kind: "presence", n });
const log = createLogger({ service: "pir", device: "pi", level: "silent" });

/** A JetStream client whose publish fails while `down` and keeps what it stored, deduplicated by msgID as the server does. */
function fakeJs() {
  const stored: string[] = [];
  const state = { down: false, hang: false, calls: 0 };
  const js = {
    publish: async (_subject: string, payload: string, opts: { msgID: string }) => {
      state.calls++;
      if (state.hang) return new Promise(() => undefined);
      if (state.down) throw new Error("TIMEOUT");
      const duplicate = stored.includes(opts.msgID);
      if (!duplicate) stored.push(opts.msgID);
      expect((JSON.parse(payload) as Ev).id).toBe(opts.msgID);
      return { seq: stored.length, duplicate, stream: "EVENTS" };
    },
  } as unknown as JetStreamClient;
  return { js, stored, state };
}

const validate = (e: Ev) => {
  if (e.n < 0) throw new Error("n must be ≥ 0");
  return e;
};
const quick = () => new Backoff({ initialMs: 1, maxMs: 5 });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function outbox(dir?: string, maxEvents?: number) {
  const d = dir ?? mkdtempSync(join(tmpdir(), "picket-recorder-"));
  if (dir === undefined) dirs.push(d);
  return { dir: d, outbox: await EventOutbox.open<Ev>({ dir: d, name: "presence-pi", log, ...(maxEvents === undefined ? {} : { maxEvents }) }) };
}

describe("EventRecorder", () => {
  it("stores events in order through failures, once each", async () => {
    const { js, stored, state } = fakeJs();
    const rec = new EventRecorder<Ev>(js, log, validate, undefined, quick());
    state.down = true;
    const done = [1, 2, 3].map((n) => rec.record(ev(n)));
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.pending).toBe(3);
    state.down = false;
    expect(await Promise.all(done)).toEqual([true, true, true]);
    expect(stored).toEqual(["ev-1", "ev-2", "ev-3"]);
  });

  it("publishes again at once when told the bus is back, not after an attempt that is never answered", async () => {
    const { js, stored, state } = fakeJs();
    const rec = new EventRecorder<Ev>(js, log, validate, undefined, new Backoff({ initialMs: 60_000, maxMs: 60_000 }));
    state.hang = true;
    const done = rec.record(ev(1));
    await new Promise((r) => setTimeout(r, 10));
    state.hang = false;
    rec.retryNow();
    expect(await done).toBe(true);
    expect(stored).toEqual(["ev-1"]);
    expect(state.calls).toBe(2);
  });

  it("refuses an event that does not match its schema without blocking the next", async () => {
    const { js, stored } = fakeJs();
    const rec = new EventRecorder<Ev>(js, log, validate, undefined, quick());
    expect(await rec.record({ ...ev(1), n: -1 })).toBe(false);
    expect(await rec.record(ev(2))).toBe(true);
    expect(stored).toEqual(["ev-2"]);
  });

  it("with an outbox: keeps each event there until stored, then drops it", async () => {
    const { js, stored, state } = fakeJs();
    const { outbox: box } = await outbox();
    const rec = new EventRecorder<Ev>(js, log, validate, undefined, quick(), box);
    state.down = true;
    const first = rec.record(ev(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(box.events()).toEqual([ev(1)]);
    state.down = false;
    expect(await first).toBe(true);
    expect(box.size).toBe(0);
    expect(stored).toEqual(["ev-1"]);
    await rec.stop();
  });

  it("with an outbox: what a stopped (or killed) run did not store is published first by the next, in order, once", async () => {
    const { js, stored, state } = fakeJs();
    const { dir, outbox: box } = await outbox();
    const run1 = new EventRecorder<Ev>(js, log, validate, undefined, quick(), box);
    expect(await run1.record(ev(1))).toBe(true);
    state.down = true;
    const lost = [2, 3, 4].map((n) => run1.record(ev(n)));
    await new Promise((r) => setTimeout(r, 20));
    await run1.stop();
    expect(await Promise.all(lost)).toEqual([false, false, false]);

    state.down = false;
    const run2 = new EventRecorder<Ev>(js, log, validate, undefined, quick(), (await outbox(dir)).outbox);
    expect(run2.resume()).toBe(3);
    expect(await run2.record(ev(5))).toBe(true);
    expect(stored).toEqual(["ev-1", "ev-2", "ev-3", "ev-4", "ev-5"]);
    await run2.stop();
    // Nothing left for a third run.
    expect((await outbox(dir)).outbox.size).toBe(0);
  });

  it("with a full outbox: refuses the newest event and stores the rest", async () => {
    const { js, stored, state } = fakeJs();
    const { outbox: box } = await outbox(undefined, 2);
    const rec = new EventRecorder<Ev>(js, log, validate, undefined, quick(), box);
    state.down = true;
    const done = [1, 2, 3].map((n) => rec.record(ev(n)));
    await new Promise((r) => setTimeout(r, 20));
    state.down = false;
    expect(await Promise.all(done)).toEqual([true, true, false]);
    expect(stored).toEqual(["ev-1", "ev-2"]);
    await rec.stop();
  });
});
