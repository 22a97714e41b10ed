import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import busboy from "busboy";

/**
 * A Telegram Bot API test double: a real HTTP server on 127.0.0.1 that answers
 * `/bot<token>/<method>` like api.telegram.org does, so telegraf can be pointed at it with
 * `apiRoot`. Every call is recorded. It delivers queued updates regardless of
 * `allowed_updates`, so a test exercises the bot's own filtering.
 */

/** One recorded API call. */
export interface ApiCall {
  method: string;
  /** Query parameters merged with the body; form and query values stay strings, JSON keeps its types. */
  params: Record<string, unknown>;
  /** Uploaded files by form field name (`photo`, `video`, …). */
  files: Record<string, Buffer>;
  /** How the body came: `multipart`, `json`, `urlencoded` or `none`. */
  encoding: "multipart" | "json" | "urlencoded" | "none";
  /** Wall clock (performance.timeOrigin + performance.now(), ms) when the body was fully received. */
  receivedAt: number;
  /** HTTP status the double answered with (200 unless a failure was injected or the call was bad). */
  status: number;
  /** `params.chat_id` as a string, when there is one. */
  chatId?: string;
  /** The id of the message the call created, when it created one. */
  messageId?: number;
}

/** An injected failure for the next call(s) of a method. */
export interface Failure {
  status: number;
  description?: string;
  /** Seconds, sent as `parameters.retry_after` (Telegram does this with 429). */
  retryAfter?: number;
}

export type UpdateBody = Record<string, unknown>;

const BOT_ID_FALLBACK = 123456789;
const now = () => performance.timeOrigin + performance.now();

class ApiFault extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

/** Width and height from a JPEG's SOF marker, or undefined when it is not a JPEG. */
export function jpegDimensions(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  let off = 2;
  while (off + 9 < buf.length) {
    if (buf[off] !== 0xff) return undefined;
    const marker = buf[off + 1] as number;
    const len = buf.readUInt16BE(off + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: buf.readUInt16BE(off + 5), width: buf.readUInt16BE(off + 7) };
    off += 2 + len;
  }
  return undefined;
}

export class TelegramApiDouble {
  readonly url: string;
  private readonly recorded: ApiCall[] = [];
  private readonly events = new EventEmitter();
  private readonly updates: (UpdateBody & { update_id: number })[] = [];
  private readonly failures = new Map<string, Failure[]>();
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private poll: { answer: (outcome: "updates" | "empty" | ApiFault) => void } | undefined;
  private readonly botUser: Record<string, unknown>;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    port: number,
    private readonly token: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.events.setMaxListeners(100);
    const id = Number(token.split(":")[0]);
    this.botUser = { id: Number.isSafeInteger(id) ? id : BOT_ID_FALLBACK, is_bot: true, first_name: "Picket Test", username: "picket_test_bot" };
  }

  /** Starts a double on a free loopback port that accepts only `token`. */
  static async start(token: string): Promise<TelegramApiDouble> {
    let self: TelegramApiDouble | undefined;
    const server = createServer((req, res) => void self?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const addr = server.address();
    self = new TelegramApiDouble(server, typeof addr === "object" && addr !== null ? addr.port : 0, token);
    return self;
  }

  /** Recorded calls, optionally of one method, in arrival order. */
  calls(method?: string): ApiCall[] {
    return method === undefined ? [...this.recorded] : this.recorded.filter((c) => c.method === method);
  }

  /**
   * Resolves with the matching calls once at least `n` calls of `method` (passing `filter`)
   * have arrived; rejects after `timeoutMs` listing what did arrive.
   */
  waitForCalls(method: string, n: number, timeoutMs = 15_000, filter: (c: ApiCall) => boolean = () => true): Promise<ApiCall[]> {
    const matching = () => this.recorded.filter((c) => c.method === method && filter(c));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = matching();
        if (found.length < n) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.recorded.map((c) => `${c.method}${c.chatId === undefined ? "" : `(${c.chatId})`}:${c.status}`).join(", ");
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} ${method} call(s); got ${matching().length}; calls: ${seen}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off("call", check);
      };
      this.events.on("call", check);
      check();
    });
  }

  /** Queues an update for getUpdates and returns its update_id. */
  pushUpdate(update: UpdateBody): number {
    const update_id = this.nextUpdateId++;
    this.updates.push({ ...update, update_id });
    this.poll?.answer("updates");
    return update_id;
  }

  /** The next `count` calls of `method` fail with `failure` (queued after earlier injections). */
  failNext(method: string, count: number, failure: Failure): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < count; i++) queue.push(failure);
    this.failures.set(method, queue);
  }

  /** Answers a pending long poll with no updates and stops the server. */
  async close(): Promise<void> {
    this.poll?.answer("empty");
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (m === null) return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    let body: Omit<ApiCall, "method" | "status" | "receivedAt" | "chatId">;
    try {
      body = await readBody(req);
    } catch (err) {
      return send(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${(err as Error).message}` });
    }
    const params = { ...Object.fromEntries(url.searchParams), ...body.params };
    const call: ApiCall = { method: m[2] as string, ...body, params, receivedAt: now(), status: 200 };
    if (params.chat_id !== undefined) call.chatId = String(params.chat_id);
    const finish = (status: number, payload: unknown) => {
      call.status = status;
      this.recorded.push(call);
      this.events.emit("call", call);
      send(res, status, payload);
    };
    if (m[1] !== this.token) return finish(401, { ok: false, error_code: 401, description: "Unauthorized" });
    const failure = this.failures.get(call.method)?.shift();
    if (failure !== undefined) {
      const parameters = failure.retryAfter === undefined ? undefined : { retry_after: failure.retryAfter };
      return finish(failure.status, { ok: false, error_code: failure.status, description: failure.description ?? defaultDescription(failure), ...(parameters ? { parameters } : {}) });
    }
    try {
      const result = await this.dispatch(call, res);
      const id = (result as { message_id?: unknown } | null)?.message_id;
      if (typeof id === "number") call.messageId = id;
      finish(200, { ok: true, result });
    } catch (err) {
      const fault = err instanceof ApiFault ? err : new ApiFault(500, `Internal Server Error: ${(err as Error).message}`);
      finish(fault.status, { ok: false, error_code: fault.status, description: fault.description, ...(fault.parameters ? { parameters: fault.parameters } : {}) });
    }
  }

  private dispatch(call: ApiCall, res: ServerResponse): unknown {
    const p = call.params;
    switch (call.method) {
      case "getMe":
        return { ...this.botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case "deleteWebhook":
      case "setMyCommands":
      case "answerCallbackQuery":
        return true;
      case "getUpdates":
        return this.getUpdates(p, res);
      case "sendMessage": {
        const text = str(p.text);
        if (text.trim() === "") throw new ApiFault(400, "Bad Request: message text is empty");
        if (text.length > 4096) throw new ApiFault(400, "Bad Request: message is too long");
        return { ...this.message(p), text };
      }
      case "sendPhoto": {
        const photo = call.files.photo;
        if (photo === undefined) throw new ApiFault(400, "Bad Request: there is no photo in the request");
        const dims = jpegDimensions(photo);
        if (dims === undefined) throw new ApiFault(400, "Bad Request: IMAGE_PROCESS_FAILED");
        return { ...this.message(p), photo: photoSizes(dims, photo.length), ...this.caption(p) };
      }
      case "sendVideo": {
        const video = call.files.video;
        if (video === undefined) throw new ApiFault(400, "Bad Request: there is no video in the request");
        const width = Number(p.width ?? 1280);
        const height = Number(p.height ?? 720);
        const file = { file_id: fileId(), file_unique_id: fileId().slice(0, 16), file_size: video.length };
        return { ...this.message(p), video: { ...file, width, height, duration: Number(p.duration ?? 0), mime_type: "video/mp4" }, ...this.caption(p) };
      }
      default:
        throw new ApiFault(404, "Not Found: method not found");
    }
  }

  private caption(p: Record<string, unknown>): { caption?: string } {
    if (p.caption === undefined) return {};
    const caption = str(p.caption);
    if (caption.length > 1024) throw new ApiFault(400, "Bad Request: message caption is too long");
    return { caption };
  }

  private message(p: Record<string, unknown>): Record<string, unknown> {
    const raw = str(p.chat_id);
    if (!/^-?\d{1,16}$/.test(raw)) throw new ApiFault(400, "Bad Request: chat not found");
    const id = Number(raw);
    const chat = id < 0 ? { id, type: raw.startsWith("-100") ? "supergroup" : "group", title: `Group ${-id}` } : { id, type: "private", first_name: `User ${id}` };
    return { message_id: this.nextMessageId++, from: this.botUser, chat, date: Math.floor(Date.now() / 1000) };
  }

  /** Long polling: answers at once when updates are waiting, else after `timeout` s or when one arrives. */
  private getUpdates(p: Record<string, unknown>, res: ServerResponse): Promise<unknown[]> | unknown[] {
    const offset = Number(p.offset ?? 0);
    const limit = Math.min(100, Math.max(1, Number(p.limit ?? 100)));
    const timeoutS = Math.max(0, Number(p.timeout ?? 0));
    if (offset > 0) {
      // Updates below the offset are confirmed: Telegram forgets them.
      while (this.updates.length > 0 && (this.updates[0]?.update_id ?? 0) < offset) this.updates.shift();
    }
    const pick = () => (offset < 0 ? this.updates.slice(offset) : this.updates).slice(0, limit);
    const ready = pick();
    if (ready.length > 0 || timeoutS === 0) return ready;
    // A newer poll ends an older one, as the real API does.
    this.poll?.answer(new ApiFault(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"));
    return new Promise((resolve, reject) => {
      const entry = {
        answer: (outcome: "updates" | "empty" | ApiFault) => {
          clearTimeout(timer);
          res.off("close", onClose);
          if (this.poll === entry) this.poll = undefined;
          if (outcome instanceof ApiFault) reject(outcome);
          else resolve(outcome === "updates" ? pick() : []);
        },
      };
      const timer = setTimeout(() => entry.answer("empty"), timeoutS * 1000);
      // The client gave up (telegraf aborts its poll on stop).
      const onClose = () => entry.answer("empty");
      res.on("close", onClose);
      this.poll = entry;
    });
  }
}

function defaultDescription(f: Failure): string {
  if (f.status === 429) return `Too Many Requests: retry after ${f.retryAfter ?? 1}`;
  if (f.status >= 500) return "Internal Server Error";
  return "Bad Request";
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v);
}

function fileId(): string {
  return `AgAC${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

const PHOTO_LIMITS = [90, 320, 800, 1280, 2560];

/** Telegram keeps a photo in several sizes, 90, 320, 800, 1280 and 2560 px on the long side, up to the original's. */
function photoSizes(dims: { width: number; height: number }, bytes: number): Record<string, unknown>[] {
  const long = Math.max(dims.width, dims.height);
  return PHOTO_LIMITS.filter((_, i) => i === 0 || (PHOTO_LIMITS[i - 1] as number) < long)
    .map((max) => {
      const scale = Math.min(1, max / long);
      const width = Math.round(dims.width * scale);
      const height = Math.round(dims.height * scale);
      return { file_id: fileId(), file_unique_id: fileId().slice(0, 16), width, height, file_size: Math.round(bytes * scale * scale) };
    });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

async function readBody(req: IncomingMessage): Promise<Pick<ApiCall, "params" | "files" | "encoding">> {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) {
    return new Promise((resolve, reject) => {
      const params: Record<string, unknown> = {};
      const files: Record<string, Buffer> = {};
      const bb = busboy({ headers: req.headers });
      bb.on("field", (name, value) => {
        params[name] = value;
      });
      bb.on("file", (name, stream) => {
        const chunks: Buffer[] = [];
        stream.on("data", (d: Buffer) => chunks.push(d));
        stream.on("end", () => {
          files[name] = Buffer.concat(chunks);
        });
      });
      bb.on("close", () => resolve({ params, files, encoding: "multipart" }));
      bb.on("error", reject);
      req.pipe(bb);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return { params: {}, files: {}, encoding: "none" };
  if (type.startsWith("application/json")) {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("JSON body must be an object");
    return { params: parsed as Record<string, unknown>, files: {}, encoding: "json" };
  }
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return { params: Object.fromEntries(new URLSearchParams(text)), files: {}, encoding: "urlencoded" };
  }
  throw new Error(`unsupported content-type "${type}"`);
}

/** Builders for realistic updates (telegraf matches commands by their `bot_command` entity). */
export const updates = {
  /** A text message from a person in a chat (negative ids are groups). */
  text(chatId: number, text: string, fromId = Math.abs(chatId)): UpdateBody {
    const chat = chatId < 0 ? { id: chatId, type: "group", title: `Group ${-chatId}` } : { id: chatId, type: "private", first_name: `User ${chatId}` };
    return { message: { message_id: Math.floor(Math.random() * 1e6), from: { id: fromId, is_bot: false, first_name: `User ${fromId}`, language_code: "en" }, chat, date: Math.floor(Date.now() / 1000), text, ...commandEntities(text) } };
  },
  /** A press of an inline button under a message the bot sent to `chatId`. */
  callback(chatId: number, data: string, fromId = Math.abs(chatId)): UpdateBody {
    const chat = chatId < 0 ? { id: chatId, type: "group", title: `Group ${-chatId}` } : { id: chatId, type: "private", first_name: `User ${chatId}` };
    return {
      callback_query: {
        id: String(Math.floor(Math.random() * 1e12)),
        from: { id: fromId, is_bot: false, first_name: `User ${fromId}`, language_code: "en" },
        chat_instance: String(chatId),
        data,
        message: { message_id: Math.floor(Math.random() * 1e6), from: { id: 1, is_bot: true, first_name: "Picket" }, chat, date: Math.floor(Date.now() / 1000), caption: "alert" },
      },
    };
  },
  /** A post in a channel: it has a chat but no `from`. */
  channelPost(chatId: number, text: string): UpdateBody {
    return { channel_post: { message_id: Math.floor(Math.random() * 1e6), sender_chat: { id: chatId, type: "channel", title: "Channel" }, chat: { id: chatId, type: "channel", title: "Channel" }, date: Math.floor(Date.now() / 1000), text, ...commandEntities(text) } };
  },
};

function commandEntities(text: string): { entities?: { offset: number; length: number; type: string }[] } {
  const m = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  return m === null ? {} : { entities: [{ offset: 0, length: m[0].length, type: "bot_command" }] };
}

/** Starts a Bot API double for `token`; see {@link TelegramApiDouble}. */
export function startTelegramApi(token: string): Promise<TelegramApiDouble> {
  return TelegramApiDouble.start(token);
}
