import { describe, expect, it } from "vitest";
import { TelegramError } from "telegraf";
import { isTelegramCallError, toTelegramCallError } from "./telegram-errors.js";

const tgError = (error_code: number, description: string, parameters?: { retry_after?: number }) =>
  new TelegramError({ error_code, description, ...(parameters ? { parameters } : {}) }, { method: "sendPhoto", payload: { photo: Buffer.alloc(10) } });

describe("toTelegramCallError", () => {
  it("waits retry_after on 429", () => {
    const e = toTelegramCallError("x", tgError(429, "Too Many Requests: retry after 7", { retry_after: 7 }));
    expect(e).toMatchObject({ kind: "retry", code: 429, retryAfterMs: 7000, method: "sendPhoto" });
    expect(toTelegramCallError("x", tgError(429, "Too Many Requests")).retryAfterMs).toBe(5000);
  });

  it("retries 5xx, network errors and timeouts", () => {
    expect(toTelegramCallError("x", tgError(502, "Bad Gateway")).kind).toBe("retry");
    const fetchError = Object.assign(new Error("request to http://h/bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi/sendPhoto failed, reason: ECONNREFUSED"), { name: "FetchError" });
    const e = toTelegramCallError("sendPhoto", fetchError);
    expect(e.kind).toBe("retry");
    expect(e.message).not.toContain("ABCDEFGHIJ");
    expect(toTelegramCallError("sendPhoto", new DOMException("aborted", "TimeoutError"))).toMatchObject({ kind: "retry", description: "timed out or cancelled" });
  });

  it("treats a bad token or a second poller as fatal", () => {
    expect(toTelegramCallError("x", tgError(401, "Unauthorized")).kind).toBe("fatal");
    expect(toTelegramCallError("x", tgError(409, "Conflict: terminated by other getUpdates request")).kind).toBe("fatal");
  });

  it("treats a refused request as rejected", () => {
    expect(toTelegramCallError("x", tgError(400, "Bad Request: chat not found")).kind).toBe("rejected");
    expect(toTelegramCallError("x", tgError(403, "Forbidden: bot was blocked by the user")).kind).toBe("rejected");
  });

  it("keeps no payload and is recognisable", () => {
    const e = toTelegramCallError("x", tgError(500, "Internal Server Error"));
    expect(isTelegramCallError(e)).toBe(true);
    expect(JSON.stringify({ ...e })).not.toContain("photo");
    expect(toTelegramCallError("y", e)).toBe(e);
  });
});
