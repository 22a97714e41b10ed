import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "@picket/runtime";
import type { Types } from "telegraf";

/** Telegram's header carrying the `secret_token` given to `setWebhook`. Node lower-cases header names. */
const SECRET_HEADER = "x-telegram-bot-api-secret-token";
const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** How many recent update ids are remembered to drop Telegram's re-deliveries. */
const DEDUPE_WINDOW = 1000;
/** After `close()`, requests still being read get this long before their connections are cut. */
const CLOSE_GRACE_MS = 500;

/** The update types the household bot handles; everything else Telegram does not even send. */
export const ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"] as const;

/**
 * True when `s` is a usable webhook secret: Telegram allows 1–256 characters of A-Z a-z 0-9 _ -,
 * and Picket asks for at least 16 so the secret cannot be guessed.
 */
export function isValidSecretToken(s: string): boolean {
  return SECRET_TOKEN_PATTERN.test(s);
}

/**
 * The webhook path for a secret: `/telegram/<32 hex>`, derived from the secret so that it is
 * unguessable and needs no setting of its own. The hash is domain-separated, so the path is not
 * the plain SHA-256 of the secret that could be matched elsewhere; the path is not a credential,
 * the secret header is.
 */
export function webhookPath(secret: string): string {
  const digest = createHash("sha256").update("picket telegram webhook path\0").update(secret).digest("hex");
  return `/telegram/${digest.slice(0, 32)}`;
}

/**
 * The arguments for telegraf's `bot.telegram.setWebhook(url, extra)`. `publicUrl` is the https
 * origin Telegram can reach, optionally with a path prefix a reverse proxy forwards
 * (`https://cam.example.org/bot`); the webhook path is appended to it. Pending updates are kept,
 * so commands sent while the bot was down still arrive.
 * @throws Error when `publicUrl` is not https, carries a query or fragment, or the secret is invalid.
 */
export function setWebhookParams(publicUrl: string, secret: string): { url: string; extra: Types.ExtraSetWebhook } {
  if (!isValidSecretToken(secret)) {
    throw new Error("webhook secret must be 16–256 characters of A-Z a-z 0-9 _ -");
  }
  let base: URL;
  try {
    base = new URL(publicUrl);
  } catch {
    throw new Error("webhook public URL is not a URL");
  }
  if (base.protocol !== "https:") throw new Error("webhook public URL must be https (Telegram refuses others)");
  if (base.search !== "" || base.hash !== "") throw new Error("webhook public URL must not have a query or fragment");
  const prefix = base.pathname.replace(/\/+$/, "");
  return {
    url: `${base.origin}${prefix}${webhookPath(secret)}`,
    extra: { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES], drop_pending_updates: false },
  };
}

export interface WebhookServerOptions {
  host: string;
  /** 0 picks a free port; the chosen one is returned. */
  port: number;
  /** The only path that accepts updates, usually `webhookPath(secretToken)`. */
  path: string;
  /** Must pass `isValidSecretToken`: the server refuses to start without real authentication. */
  secretToken: string;
  /**
   * Receives each authenticated update once. It is started before Telegram gets its 200 but not
   * awaited, so a slow upload does not make Telegram re-send; its errors are logged. An update
   * whose handling is cut short by a crash is not re-sent.
   */
  onUpdate: (update: unknown) => Promise<void> | void;
  log: Logger;
  /** Larger bodies get 413 and are not read further. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface WebhookServer {
  port: number;
  /** Stops accepting, ends idle keep-alive connections at once and busy ones after a short grace; resolves within 1 s. */
  close(): Promise<void>;
}

/**
 * Serves Telegram's webhook: POST to exactly `path` with the secret header and a JSON update.
 * Other paths answer 404 and other methods 405 without logging; a wrong or missing secret
 * answers 401 and logs the remote address (never the header); malformed bodies 400.
 */
export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  if (!isValidSecretToken(opts.secretToken)) {
    throw new Error("webhook secret must be 16–256 characters of A-Z a-z 0-9 _ -");
  }
  if (!opts.path.startsWith("/")) throw new Error("webhook path must start with /");
  const log = opts.log.child({ module: "webhook" });
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const expectedSecret = digest(opts.secretToken);
  const seen = new RecentIds(DEDUPE_WINDOW);

  const deliver = (update: { update_id: number }): void => {
    if (!seen.add(update.update_id)) {
      log.debug({ updateId: update.update_id }, "dropped a re-sent update");
      return;
    }
    let handling: Promise<void> | void;
    try {
      handling = opts.onUpdate(update);
    } catch (err) {
      log.error({ err, updateId: update.update_id }, "handling an update failed");
      return;
    }
    Promise.resolve(handling).catch((err: unknown) => {
      log.error({ err, updateId: update.update_id }, "handling an update failed");
    });
  };

  const server = createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== opts.path) return reply(res, 404, "not found");
    if (req.method !== "POST") return reply(res, 405, "method not allowed", { allow: "POST" });
    if (!hasSecret(req, expectedSecret)) {
      log.warn({ remote: req.socket.remoteAddress, forwardedFor: forwardedFor(req) }, "refused a webhook call without the right secret");
      return reply(res, 401, "unauthorized");
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return reply(res, 413, "body too large");
    readBody(req, maxBodyBytes)
      .then((body) => {
        if (body === undefined) return reply(res, 413, "body too large");
        const update = parseUpdate(body);
        if (typeof update === "string") return reply(res, 400, update);
        deliver(update);
        // An empty 200: a JSON body here would be taken by Telegram as a Bot API call to make.
        res.writeHead(200).end();
      })
      .catch((err: unknown) => {
        log.debug({ err }, "reading a webhook body failed");
        res.destroy();
      });
  });
  // Telegram sends small bodies at once; a client trickling bytes is not Telegram.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log.error({ err }, "webhook server error"));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  log.info({ host: opts.host, port }, "waiting for Telegram webhook calls");

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Remembers the last `capacity` ids; `add` is false for an id already among them. */
class RecentIds {
  private readonly ids = new Set<number>();
  private readonly order: number[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(id: number): boolean {
    if (this.ids.has(id)) return false;
    if (this.order.length < this.capacity) {
      this.order.push(id);
    } else {
      this.ids.delete(this.order[this.next] as number);
      this.order[this.next] = id;
      this.next = (this.next + 1) % this.capacity;
    }
    this.ids.add(id);
    return true;
  }
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Compares digests, which are always equal in length, so neither content nor length leaks through timing. */
function hasSecret(req: IncomingMessage, expected: Buffer): boolean {
  const given = req.headers[SECRET_HEADER];
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(given), expected);
}

function forwardedFor(req: IncomingMessage): string | undefined {
  const value = req.headers["x-forwarded-for"];
  return typeof value === "string" ? value.slice(0, 200) : undefined;
}

/**
 * Error answers close the connection, so a client that sent a body we refused to read cannot
 * keep the socket busy with it.
 */
function reply(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", connection: "close", ...headers });
  res.end(JSON.stringify({ error }));
}

/** The whole body, or undefined as soon as it grows past `max` (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off("data", onData).off("end", onEnd).off("error", reject);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on("data", onData).on("end", onEnd).on("error", reject);
  });
}

/** The update, or the reason it is not one. Only `update_id` is checked here; telegraf reads the rest. */
function parseUpdate(body: Buffer): { update_id: number } | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return "body is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "body is not a JSON object";
  const id = (value as { update_id?: unknown }).update_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return "update_id must be an integer";
  return value as { update_id: number };
}
