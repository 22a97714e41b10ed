import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles from the initial delay up to the cap", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(b.attempts).toBe(7);
  });

  it("uses the given factor", () => {
    const b = new Backoff({ initialMs: 10, maxMs: 10_000, factor: 3, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 30, 90]);
  });

  it("spreads each delay between (1 - jitter) and 1 times the step", () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 8000 }, () => 0);
    const high = new Backoff({ initialMs: 1000, maxMs: 8000 }, () => 0.999999);
    expect([low.next(), low.next()]).toEqual([500, 1000]);
    expect([high.next(), high.next()]).toEqual([1000, 2000]);
  });

  it("never exceeds the cap, whatever the random source says", () => {
    const b = new Backoff({ initialMs: 50, maxMs: 3000, jitter: 1 }, () => 0.999999);
    for (let i = 0; i < 100; i++) expect(b.next()).toBeLessThanOrEqual(3000);
  });

  it("starts again from the initial delay after reset", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });
});
