import { scrubSecrets } from "@picket/runtime";
import { TelegramError } from "telegraf";

/**
 * How a failed Bot API call should be handled:
 * - `retry`: network trouble, timeouts, 429 (after `retryAfterMs`) and 5xx: try again later;
 * - `rejected`: the API refused this request for good (400 bad request, 403 blocked by the
 *   user or kicked from the group): retrying the same call cannot help;
 * - `fatal`: the bot itself cannot work (401 bad token, 404 unknown bot, 409 another
 *   poller or a webhook): a person has to act.
 */
export type FailureKind = "retry" | "rejected" | "fatal";

/**
 * A Bot API call that failed, safe to log: it carries the method, the API's code and
 * description with any token scrubbed, and never the request payload (which may hold a photo).
 */
export class TelegramCallError extends Error {
  override readonly name = "TelegramCallError";
  constructor(
    readonly method: string,
    readonly kind: FailureKind,
    readonly code: number | undefined,
    readonly description: string,
    /** Set for 429: how long Telegram asked us to wait, ms. */
    readonly retryAfterMs?: number,
    /** For a fatal error: what the person running the bot should do. */
    readonly hint?: string,
  ) {
    super(`${method} failed${code === undefined ? "" : ` (${code})`}: ${description}${hint === undefined ? "" : ` — ${hint}`}`);
  }
}

export function isTelegramCallError(err: unknown): err is TelegramCallError {
  return err instanceof TelegramCallError;
}

const FATAL_HINTS: Record<number, string> = {
  401: "Telegram does not accept this token: check PICKET_TELEGRAM_TOKEN against the one @BotFather gave",
  404: "Telegram knows no bot with this token: check PICKET_TELEGRAM_TOKEN and PICKET_TELEGRAM_API_ROOT",
  409: "another program is taking this bot's updates (a second copy of the bot, or a webhook set elsewhere); Telegram allows one: stop the other, or give each its own token from @BotFather",
};

/** Telegram's wait when a 429 does not say how long. */
const DEFAULT_RETRY_AFTER_S = 5;

/** Classifies any error thrown by a telegraf call into a {@link TelegramCallError}. */
export function toTelegramCallError(method: string, err: unknown): TelegramCallError {
  if (err instanceof TelegramCallError) return err;
  if (err instanceof TelegramError) {
    // telegraf says which call failed (launch runs getMe, deleteWebhook, getUpdates).
    const on = err.on as { method?: unknown };
    if (typeof on?.method === "string") method = on.method;
    const code = err.code;
    const description = clean(err.description || `HTTP ${code}`);
    if (code === 429) {
      const after = err.parameters?.retry_after;
      return new TelegramCallError(method, "retry", code, description, (typeof after === "number" && after >= 0 ? after : DEFAULT_RETRY_AFTER_S) * 1000);
    }
    if (code >= 500) return new TelegramCallError(method, "retry", code, description);
    if (code === 401 || code === 404 || code === 409) return new TelegramCallError(method, "fatal", code, description, undefined, FATAL_HINTS[code]);
    if (code === 400 || code === 403) return new TelegramCallError(method, "rejected", code, description);
    return new TelegramCallError(method, "retry", code, description);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === "AbortError" || e.name === "TimeoutError") return new TelegramCallError(method, "retry", undefined, "timed out or cancelled");
  // FetchError (DNS, refused, reset) and anything unexpected: worth another try.
  return new TelegramCallError(method, "retry", undefined, clean(e.message || e.name));
}

function clean(text: string): string {
  const s = scrubSecrets(text).replace(/\/bot[^/\s]+\//g, "/bot<redacted>/");
  return s.length <= 300 ? s : `${s.slice(0, 299)}…`;
}
