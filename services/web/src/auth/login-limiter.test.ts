import { describe, expect, it } from "vitest";
import { LoginLimiter } from "./login-limiter.js";

const MIN = 60_000;

describe("LoginLimiter", () => {
  it("refuses the 11th attempt after 10 failures within 10 minutes, until the oldest ages out", () => {
    const l = new LoginLimiter();
    const t0 = 1_000_000;
    for (let i = 0; i < 10; i++) {
      expect(l.check("1.2.3.4", t0 + i * MIN * 0.5)).toEqual({ ok: true });
      l.fail("1.2.3.4", t0 + i * MIN * 0.5);
    }
    const now = t0 + 5 * MIN;
    expect(l.check("1.2.3.4", now)).toEqual({ ok: false, retryAfterS: 300 });
    expect(l.check("5.6.7.8", now)).toEqual({ ok: true });
    // The first failure (t0) ages out at t0 + 10 min; the second one 30 s later.
    expect(l.check("1.2.3.4", t0 + 10 * MIN - 1)).toEqual({ ok: false, retryAfterS: 1 });
    expect(l.check("1.2.3.4", t0 + 10 * MIN)).toEqual({ ok: true });
    l.fail("1.2.3.4", t0 + 10 * MIN);
    expect(l.check("1.2.3.4", t0 + 10 * MIN)).toEqual({ ok: false, retryAfterS: 30 });
  });

  it("keeps failures spread wider than the window apart from counting", () => {
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 10 * MIN });
    for (let i = 0; i < 20; i++) l.fail("a", i * 4 * MIN);
    expect(l.check("a", 20 * 4 * MIN)).toEqual({ ok: true });
  });

  it("forgets old clients, and the least recently failing past its cap", () => {
    const l = new LoginLimiter({ maxClients: 100, windowMs: 10 * MIN });
    for (let i = 0; i < 100; i++) l.fail(`old-${i}`, 0);
    l.fail("new", 11 * MIN);
    expect(l.size).toBe(1);
    for (let i = 0; i < 150; i++) l.fail(`c-${i}`, 12 * MIN + i);
    expect(l.size).toBeLessThanOrEqual(100);
    for (let i = 0; i < 10; i++) l.fail("c-149", 13 * MIN);
    expect(l.check("c-149", 13 * MIN).ok).toBe(false);
  });
});
