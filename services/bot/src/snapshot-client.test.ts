import { Backoff } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { takeSnapshot, type Snapshot } from "./snapshot-client.js";

const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

function scripted(results: Snapshot[]) {
  const timeouts: number[] = [];
  const request = async (timeoutMs: number) => {
    timeouts.push(timeoutMs);
    return results.shift() ?? { ok: false, reason: "script ended" };
  };
  return { request, timeouts };
}

describe("takeSnapshot", () => {
  it("returns the first picture without waiting", async () => {
    const s = scripted([{ ok: true, jpeg }]);
    const waits: number[] = [];
    const out = await takeSnapshot(s.request, { attempts: 3, timeoutMs: 500, wait: async (ms) => waits.push(ms) });
    expect(out).toEqual({ ok: true, jpeg });
    expect(waits).toEqual([]);
  });

  it("tries again with backoff while the camera has no picture yet", async () => {
    const s = scripted([{ ok: false, reason: "no picture yet" }, { ok: false, reason: "no picture yet" }, { ok: true, jpeg }]);
    const waits: number[] = [];
    const out = await takeSnapshot(s.request, {
      attempts: 4,
      timeoutMs: 500,
      backoff: () => new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 }),
      wait: async (ms) => waits.push(ms),
    });
    expect(out.ok).toBe(true);
    expect(waits).toEqual([100, 200]);
    expect(s.timeouts).toEqual([500, 500, 500]);
  });

  it("gives the last reason after the last try", async () => {
    const s = scripted([{ ok: false, reason: "a" }, { ok: false, reason: "b" }]);
    const out = await takeSnapshot(s.request, { attempts: 2, timeoutMs: 1, wait: async () => undefined });
    expect(out).toEqual({ ok: false, reason: "b" });
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stopping"));
    await expect(takeSnapshot(scripted([]).request, { attempts: 2, timeoutMs: 1, signal: ac.signal })).rejects.toThrow("stopping");
  });
});
