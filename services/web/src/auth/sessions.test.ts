import { describe, expect, it } from "vitest";
import { RENEW_EVERY_MS, isSessionId, judgeSession, sessionKey, type StoredSession } from "./sessions.js";
import type { UserRecord } from "./users.js";

const DAY = 24 * 60 * 60_000;
const idle = 30 * DAY;
const t0 = Date.UTC(2025, 0, 1);
const user: UserRecord = { role: "viewer", hash: "x", passwordChangedAt: t0 - DAY, fromEnv: false };
const session: StoredSession = { user: "ann", role: "viewer", csrf: "c", createdAt: t0, lastUsedAt: t0 };

describe("judgeSession", () => {
  it("lasts sessionDays without use, renewing lastUsedAt at most once a minute", () => {
    expect(judgeSession(session, user, t0 + 1_000, idle)).toEqual({ ok: true, renew: false });
    expect(judgeSession(session, user, t0 + RENEW_EVERY_MS - 1, idle)).toEqual({ ok: true, renew: false });
    expect(judgeSession(session, user, t0 + RENEW_EVERY_MS, idle)).toEqual({ ok: true, renew: true });
    expect(judgeSession(session, user, t0 + idle - 1, idle)).toEqual({ ok: true, renew: true });
    expect(judgeSession(session, user, t0 + idle, idle)).toEqual({ ok: false, reason: "expired" });
    // Used yesterday: the 30 days count from then.
    const used = { ...session, lastUsedAt: t0 + 40 * DAY };
    expect(judgeSession(used, user, t0 + 69 * DAY, idle).ok).toBe(true);
  });

  it("ends when the user is gone or changed the password after the session began", () => {
    expect(judgeSession(session, undefined, t0, idle)).toEqual({ ok: false, reason: "user deleted" });
    expect(judgeSession(session, { ...user, passwordChangedAt: t0 + 1 }, t0 + 2, idle)).toEqual({ ok: false, reason: "password changed" });
    expect(judgeSession({ ...session, createdAt: t0 + 1 }, { ...user, passwordChangedAt: t0 + 1 }, t0 + 2, idle).ok).toBe(true);
  });
});

describe("session ids", () => {
  it("stores a session under a hash of its id, never the id", () => {
    const id = Buffer.alloc(32, 7).toString("base64url");
    expect(isSessionId(id)).toBe(true);
    expect(isSessionId(`${id}x`)).toBe(false);
    expect(isSessionId("../../etc")).toBe(false);
    expect(sessionKey(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionKey(id)).not.toContain(id);
  });
});
