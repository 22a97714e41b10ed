import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import busboy from "busboy";

/**
 * A Telegram Bot API test double: a real HTTP server on 127.0.0.1 that answers
 * `/bot<token>/<method>` like api.telegram.org does, so telegraf can be pointed at it with
 * `apiRoot`. Every call is recorded. It delivers queued updates regardless of
 * `allowed_updates`, so a test exercises the bot's own filtering.
 *
 * Faults a test can inject: `failNext` (an error answer), `hangNext` (no answer at all),
 * `outage` (every request reset, answered 500 or left hanging for a while), `secondPoller`
 * (another instance polls the same token: getUpdates answers 409) and `enforceRateLimits`
 * (Telegram's flood control, 429 with retry_after). `rateViolations` reports flood-control
 * breaches without enforcing them. A webhook set with `setWebhook` is fed with `postToWebhook`.
 */

/** One recorded API call. */
export interface ApiCall {
  method: string;
  /** Query parameters merged with the body; form and query values stay strings, JSON keeps its types. */
  params: Record<string, unknown>;
  /** Uploaded files by form field name (`photo`, `video`, or the `attach://` names of a media group). */
  files: Record<string, Buffer>;
  /** How the body came: `multipart`, `json`, `urlencoded` or `none`. */
  encoding: "multipart" | "json" | "urlencoded" | "none";
  /** Wall clock (performance.timeOrigin + performance.now(), ms) when the body was fully received. */
  receivedAt: number;
  /**
   * HTTP status the double answered with (200 unless a failure was injected or the call was bad);
   * 0 when it gave no answer: the connection was reset (`outage`) or left hanging (`hangNext`,
   * `outage(ms, "hang")`). Calls without an answer are recorded as soon as their body arrived.
   */
  status: number;
  /** `params.chat_id` as a string, when there is one. */
  chatId?: string;
  /** The id of the message the call created, when it created one (the first one of a media group). */
  messageId?: number;
  /** The ids of all messages a sendMediaGroup created, in order. */
  messageIds?: number[];
}

/** An injected failure for the next call(s) of a method. */
export interface Failure {
  status: number;
  description?: string;
  /** Seconds, sent as `parameters.retry_after` (Telegram does this with 429). */
  retryAfter?: number;
}

/** How requests fare during an {@link TelegramApiDouble.outage}. */
export type OutageMode = "reset" | "500" | "hang";

/** Flood control as {@link TelegramApiDouble.enforceRateLimits} applies it. */
export interface RateLimits {
  /** Sustained sends per second to one chat (default 1). A sendMediaGroup is one send here. */
  perChatPerSecond?: number;
  /** Sends to one chat allowed back to back before the per-second rate applies (default 1: none). */
  burst?: number;
  /** Messages per rolling minute to one group, i.e. a negative chat id (default 20); a media group of N counts N. */
  perGroupPerMinute?: number;
}

/** A send that broke Telegram's flood-control guidance, as {@link TelegramApiDouble.rateViolations} reports it. */
export interface RateViolation {
  /** `per-chat`: too soon after the previous send to the chat; `per-group`: too many messages to a group within 60 s. */
  kind: "per-chat" | "per-group";
  chatId: string;
  method: string;
  /** `receivedAt` of the offending send. */
  at: number;
  /** per-chat: ms since the previous send to the same chat. */
  gapMs?: number;
  /** per-group: messages to the group in the 60 s window ending with (and including) this send. */
  count?: number;
}

/** The webhook registered with setWebhook. */
export interface WebhookRegistration {
  url: string;
  secretToken?: string;
  maxConnections?: number;
  ipAddress?: string;
  allowedUpdates?: string[];
  dropPendingUpdates: boolean;
  /** Whether a `certificate` file was uploaded. */
  hasCustomCertificate: boolean;
}

export type UpdateBody = Record<string, unknown>;

const BOT_ID_FALLBACK = 123456789;
const now = () => performance.timeOrigin + performance.now();

/** Methods that send messages, for flood control. */
const SENDS = new Set(["sendMessage", "sendPhoto", "sendVideo", "sendMediaGroup"]);

const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const CONFLICT_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

class ApiFault extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

/** Thrown by a pending long poll an outage cut: the request gets no answer. */
class NoAnswer extends Error {
  constructor(readonly how: "reset" | "hang") {
    super(how);
  }
}

/** A file the double handed out a file_id for, so a later call may send it again by that id. */
type StoredFile = { kind: "photo"; width: number; height: number; size: number } | { kind: "video"; width: number; height: number; duration: number; size: number };

/** A request the double holds without answering. */
interface Held {
  res: ServerResponse;
  /** `outage`: released (destroyed) when the outage ends; `hang`: only when the client gives up or on close(). */
  until: "outage" | "hang";
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
  private readonly hangs = new Map<string, number>();
  private readonly held = new Set<Held>();
  private readonly files = new Map<string, StoredFile>();
  /** Successful sends, in the order they succeeded, for flood control. */
  private readonly sendLog: { chatId: string; method: string; at: number; messages: number }[] = [];
  private limits: Required<RateLimits> | undefined;
  private outageState: { mode: OutageMode; timer: NodeJS.Timeout } | undefined;
  private otherPoller = false;
  private hook: WebhookRegistration | undefined;
  private closed = false;
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private nextMediaGroupId = 1;
  private poll: { answer: (outcome: "updates" | "empty" | ApiFault | NoAnswer) => void } | undefined;
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

  /** Whether a long poll (getUpdates with a timeout) is waiting for updates; calls are recorded only when answered. */
  get pollPending(): boolean {
    return this.poll !== undefined;
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

  /**
   * The next `count` calls of `method` are received in full and then never answered: the
   * connection stays open until the client gives up or {@link close}. They are recorded with
   * status 0 on arrival. Takes precedence over {@link failNext}.
   */
  hangNext(method: string, count: number): void {
    this.hangs.set(method, (this.hangs.get(method) ?? 0) + count);
  }

  /**
   * For `ms` from now every request, whatever its path or token, fares as `mode` says, like a
   * lost uplink: `reset` destroys the connection (after reading the body) with a TCP reset;
   * `500` answers 500 Internal Server Error; `hang` reads the body and answers nothing until the
   * outage ends, then destroys the connection. The long poll in flight, if any, is cut the same
   * way, and updates pushed meanwhile wait for the next poll. Calls are recorded with status 0
   * (reset, hang) or 500. A new outage replaces a running one. Webhook deliveries
   * ({@link postToWebhook}) are not affected.
   */
  outage(ms: number, mode: OutageMode = "reset"): void {
    if (this.closed) return;
    if (this.outageState !== undefined) clearTimeout(this.outageState.timer);
    this.outageState = { mode, timer: setTimeout(() => this.endOutage(), ms) };
    this.poll?.answer(mode === "500" ? new ApiFault(500, "Internal Server Error") : new NoAnswer(mode === "hang" ? "hang" : "reset"));
  }

  /** Ends an outage now (it also ends by itself): requests it left hanging are destroyed. */
  endOutage(): void {
    if (this.outageState !== undefined) clearTimeout(this.outageState.timer);
    this.outageState = undefined;
    for (const h of [...this.held]) {
      if (h.until !== "outage") continue;
      this.held.delete(h);
      h.res.destroy();
    }
  }

  /** Whether an {@link outage} is running. */
  get inOutage(): boolean {
    return this.outageState !== undefined;
  }

  /**
   * Another bot instance starts polling the same token: the pending long poll, if any, and every
   * getUpdates from now on answer 409 "Conflict: terminated by other getUpdates request; …"
   * until {@link secondPollerGone}.
   */
  secondPoller(): void {
    this.otherPoller = true;
    this.poll?.answer(new ApiFault(409, CONFLICT_POLLER));
  }

  /** The other instance stopped polling: getUpdates works again. */
  secondPollerGone(): void {
    this.otherPoller = false;
  }

  /** The webhook set with setWebhook, or undefined while there is none. */
  webhook(): WebhookRegistration | undefined {
    return this.hook === undefined ? undefined : { ...this.hook };
  }

  /**
   * Delivers `update` as Telegram does to the webhook set with setWebhook: a POST of the update
   * JSON (given the next update_id unless it has one) with `X-Telegram-Bot-Api-Secret-Token` set
   * to the registered secret_token. Resolves with the HTTP status the bot answered.
   *
   * - `secret` sends this header value instead (a test can send a wrong one); `null` omits the header.
   * - `to` posts to this URL instead of the registered one (a bot behind a reverse proxy registers
   *   its public URL but listens elsewhere); a function maps the registered URL.
   *   Without `to`, an https URL on a loopback host is posted to over plain http on the same
   *   port and path, since telegraf always registers https:// but serves plain http.
   *
   * @throws Error when no webhook is set, or the bot cannot be reached.
   */
  async postToWebhook(update: UpdateBody, opts: { secret?: string | null; to?: string | ((registered: URL) => string | URL); timeoutMs?: number } = {}): Promise<number> {
    const hook = this.hook;
    if (hook === undefined) throw new Error("postToWebhook: no webhook is set (call setWebhook first)");
    const registered = new URL(hook.url);
    let target: URL;
    if (typeof opts.to === "string") target = new URL(opts.to);
    else if (typeof opts.to === "function") target = new URL(opts.to(new URL(registered)));
    else {
      target = new URL(registered);
      if (target.protocol === "https:" && isLoopback(target.hostname)) {
        const port = target.port === "" ? "443" : target.port;
        target = new URL(`http://${target.hostname}:${port}${target.pathname}${target.search}`);
      }
    }
    const body = typeof update.update_id === "number" ? update : { ...update, update_id: this.nextUpdateId++ };
    const headers: Record<string, string> = { "content-type": "application/json" };
    const secret = opts.secret === undefined ? hook.secretToken : opts.secret;
    if (secret !== undefined && secret !== null) headers["x-telegram-bot-api-secret-token"] = secret;
    const res = await fetch(target, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    await res.arrayBuffer();
    return res.status;
  }

  /**
   * Enforces Telegram's flood control from now on (`false` stops it): a send (sendMessage,
   * sendPhoto, sendVideo, sendMediaGroup) that exceeds `perChatPerSecond` (with `burst`) to a chat,
   * or `perGroupPerMinute` messages in a rolling minute to a group, answers 429 "Too Many
   * Requests: retry after N" with `parameters.retry_after`. Earlier successful sends count.
   */
  enforceRateLimits(limits: RateLimits | false = {}): void {
    if (limits === false) {
      this.limits = undefined;
      return;
    }
    this.limits = { perChatPerSecond: limits.perChatPerSecond ?? 1, burst: Math.max(1, limits.burst ?? 1), perGroupPerMinute: limits.perGroupPerMinute ?? 20 };
  }

  /**
   * Successful sends that broke Telegram's flood-control guidance, whether or not it is enforced:
   * `per-chat` for each send to a chat less than `minGapMs` (900) after the previous one to it,
   * `per-group` for each send after which a group got more than `perGroupPerMinute` (20) messages
   * within 60 s (a media group of N counts N). Sends are sendMessage, sendPhoto, sendVideo and
   * sendMediaGroup; failed calls do not count.
   */
  rateViolations(opts: { minGapMs?: number; perGroupPerMinute?: number } = {}): RateViolation[] {
    const minGap = opts.minGapMs ?? 900;
    const perGroup = opts.perGroupPerMinute ?? 20;
    const sends = [...this.sendLog].sort((a, b) => a.at - b.at);
    const out: RateViolation[] = [];
    const last = new Map<string, number>();
    for (const s of sends) {
      const prev = last.get(s.chatId);
      if (prev !== undefined && s.at - prev < minGap) out.push({ kind: "per-chat", chatId: s.chatId, method: s.method, at: s.at, gapMs: s.at - prev });
      last.set(s.chatId, s.at);
      if (!s.chatId.startsWith("-")) continue;
      const count = sends.filter((o) => o.chatId === s.chatId && o.at > s.at - 60_000 && o.at <= s.at).reduce((n, o) => n + o.messages, 0);
      if (count > perGroup) out.push({ kind: "per-group", chatId: s.chatId, method: s.method, at: s.at, count });
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /** Answers a pending long poll with no updates, ends hung requests and outage timers, and stops the server. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.outageState !== undefined) clearTimeout(this.outageState.timer);
    this.outageState = undefined;
    for (const h of this.held) h.res.destroy();
    this.held.clear();
    this.poll?.answer("empty");
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private record(call: ApiCall): void {
    this.recorded.push(call);
    this.events.emit("call", call);
  }

  /** Leaves a request unanswered; see {@link Held}. */
  private hold(res: ServerResponse, until: Held["until"]): void {
    if (this.closed || (until === "outage" && this.outageState === undefined)) {
      res.destroy();
      return;
    }
    const h: Held = { res, until };
    this.held.add(h);
    res.once("close", () => this.held.delete(h));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    // An outage is decided on arrival: a request that came in during one fares as it says.
    const outage = this.outageState?.mode;
    if (m === null && outage === undefined) return send(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    let body: Omit<ApiCall, "method" | "status" | "receivedAt" | "chatId">;
    try {
      body = await readBody(req);
    } catch (err) {
      if (outage !== undefined) body = { params: {}, files: {}, encoding: "none" };
      else return send(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${(err as Error).message}` });
    }
    const params = { ...Object.fromEntries(url.searchParams), ...body.params };
    const call: ApiCall = { method: m?.[2] ?? url.pathname, ...body, params, receivedAt: now(), status: 200 };
    if (params.chat_id !== undefined) call.chatId = String(params.chat_id);
    const finish = (status: number, payload: unknown) => {
      call.status = status;
      this.record(call);
      send(res, status, payload);
    };
    const noAnswer = (how: "reset" | "hang" | "hang-until-outage-ends") => {
      call.status = 0;
      this.record(call);
      if (how === "reset") reset(res);
      else this.hold(res, how === "hang" ? "hang" : "outage");
    };
    if (outage === "500") return finish(500, { ok: false, error_code: 500, description: "Internal Server Error" });
    if (outage === "reset") return noAnswer("reset");
    if (outage === "hang") return noAnswer("hang-until-outage-ends");
    if (m === null) return; // unreachable: without an outage an unknown path was answered 404 above
    if (m[1] !== this.token) return finish(401, { ok: false, error_code: 401, description: "Unauthorized" });
    const hang = this.hangs.get(call.method) ?? 0;
    if (hang > 0) {
      this.hangs.set(call.method, hang - 1);
      return noAnswer("hang");
    }
    const failure = this.failures.get(call.method)?.shift();
    if (failure !== undefined) {
      const parameters = failure.retryAfter === undefined ? undefined : { retry_after: failure.retryAfter };
      return finish(failure.status, { ok: false, error_code: failure.status, description: failure.description ?? defaultDescription(failure), ...(parameters ? { parameters } : {}) });
    }
    const isSend = SENDS.has(call.method) && call.chatId !== undefined;
    if (isSend && this.limits !== undefined) {
      const retryAfter = this.floodWait(call, this.limits);
      if (retryAfter !== undefined) return finish(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } });
    }
    try {
      // Sends are dispatched synchronously, so a flood check and the send it admits are not interleaved with another call.
      const out = this.dispatch(call, res);
      const result = out instanceof Promise ? ((await out) as unknown) : out;
      if (Array.isArray(result) && call.method === "sendMediaGroup") {
        call.messageIds = result.map((msg) => (msg as { message_id: number }).message_id);
        call.messageId = call.messageIds[0];
      } else {
        const id = (result as { message_id?: unknown } | null)?.message_id;
        if (typeof id === "number") call.messageId = id;
      }
      if (isSend) this.sendLog.push({ chatId: call.chatId as string, method: call.method, at: call.receivedAt, messages: call.messageIds?.length ?? 1 });
      finish(200, { ok: true, result });
    } catch (err) {
      if (err instanceof NoAnswer) return noAnswer(err.how === "reset" ? "reset" : "hang-until-outage-ends");
      const fault = err instanceof ApiFault ? err : new ApiFault(500, `Internal Server Error: ${(err as Error).message}`);
      finish(fault.status, { ok: false, error_code: fault.status, description: fault.description, ...(fault.parameters ? { parameters: fault.parameters } : {}) });
    }
  }

  /** Seconds the bot must wait before this send is allowed, or undefined when it is allowed now. */
  private floodWait(call: ApiCall, limits: Required<RateLimits>): number | undefined {
    const chatId = call.chatId as string;
    const t = call.receivedAt;
    const mine = this.sendLog.filter((s) => s.chatId === chatId);
    let waitMs = 0;
    // Per chat: a generic cell rate algorithm over the chat's earlier sends (one send per request).
    const interval = 1000 / limits.perChatPerSecond;
    const tolerance = (limits.burst - 1) * interval;
    let tat = -Infinity;
    for (const s of mine) tat = Math.max(tat, s.at) + interval;
    if (t < tat - tolerance) waitMs = Math.max(waitMs, tat - tolerance - t);
    // Per group: messages in the rolling minute.
    if (chatId.startsWith("-")) {
      let n = 1;
      if (call.method === "sendMediaGroup") {
        try {
          n = Math.max(1, mediaArray(call.params.media).length);
        } catch {
          n = 1;
        }
      }
      const recent = mine.filter((s) => s.at > t - 60_000);
      let count = recent.reduce((sum, s) => sum + s.messages, 0);
      if (count + n > limits.perGroupPerMinute) {
        let freeAt = t + 60_000;
        for (const s of recent) {
          if (count + n <= limits.perGroupPerMinute) break;
          count -= s.messages;
          freeAt = s.at + 60_000;
        }
        waitMs = Math.max(waitMs, freeAt - t);
      }
    }
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : undefined;
  }

  private dispatch(call: ApiCall, res: ServerResponse): unknown {
    const p = call.params;
    switch (call.method) {
      case "getMe":
        return { ...this.botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case "setMyCommands":
      case "answerCallbackQuery":
        return true;
      case "setWebhook":
        return this.setWebhook(call);
      case "deleteWebhook":
        if (truthy(p.drop_pending_updates)) this.updates.length = 0;
        this.hook = undefined;
        return true;
      case "getWebhookInfo":
        return this.webhookInfo();
      case "getUpdates":
        if (this.hook !== undefined) throw new ApiFault(409, CONFLICT_WEBHOOK);
        if (this.otherPoller) throw new ApiFault(409, CONFLICT_POLLER);
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
        const caption = this.caption(p);
        return { ...this.message(p), photo: this.photoSizes(dims, photo.length), ...caption };
      }
      case "sendVideo": {
        const video = call.files.video;
        if (video === undefined) throw new ApiFault(400, "Bad Request: there is no video in the request");
        const caption = this.caption(p);
        const attrs = { width: Number(p.width ?? 1280), height: Number(p.height ?? 720), duration: Number(p.duration ?? 0) };
        return { ...this.message(p), video: this.videoFile(attrs, video.length), ...caption };
      }
      case "sendMediaGroup":
        return this.mediaGroup(call);
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

  private chat(p: Record<string, unknown>): Record<string, unknown> {
    const raw = str(p.chat_id);
    if (!/^-?\d{1,16}$/.test(raw)) throw new ApiFault(400, "Bad Request: chat not found");
    const id = Number(raw);
    return id < 0 ? { id, type: raw.startsWith("-100") ? "supergroup" : "group", title: `Group ${-id}` } : { id, type: "private", first_name: `User ${id}` };
  }

  private message(p: Record<string, unknown>): Record<string, unknown> {
    const chat = this.chat(p);
    return { message_id: this.nextMessageId++, from: this.botUser, chat, date: Math.floor(Date.now() / 1000) };
  }

  /** A photo's sizes, each of whose file_ids a later call may send again. */
  private photoSizes(dims: { width: number; height: number }, bytes: number): Record<string, unknown>[] {
    const sizes = photoSizes(dims, bytes);
    for (const s of sizes) this.files.set(s.file_id as string, { kind: "photo", width: s.width as number, height: s.height as number, size: s.file_size as number });
    return sizes;
  }

  private videoFile(attrs: { width: number; height: number; duration: number }, bytes: number): Record<string, unknown> {
    const file = { file_id: fileId(), file_unique_id: fileId().slice(0, 16), file_size: bytes };
    this.files.set(file.file_id, { kind: "video", ...attrs, size: bytes });
    return { ...file, ...attrs, mime_type: "video/mp4" };
  }

  /**
   * sendMediaGroup: 2–10 photos and videos, each uploaded (`attach://<field>`) or a file_id this
   * double handed out. All items are checked before any message is made; one message per item.
   */
  private mediaGroup(call: ApiCall): Record<string, unknown>[] {
    const p = call.params;
    this.chat(p);
    const items = mediaArray(p.media);
    if (items.length === 0) throw new ApiFault(400, "Bad Request: there are no messages to send");
    if (items.length > 10) throw new ApiFault(400, "Bad Request: too many messages to send as an album");
    // Telegram itself sends a single item as a lone message; the Bot API documents 2–10, which the double holds the bot to.
    if (items.length < 2) throw new ApiFault(400, "Bad Request: media must include 2-10 items (the Bot API's documented range, enforced by the test double)");
    const contents = items.map((item) => this.mediaContent(item, call.files));
    const media_group_id = String(13_000_000_000_000_000 + this.nextMediaGroupId++);
    return contents.map((content) => ({ ...this.message(p), media_group_id, ...content }));
  }

  private mediaContent(item: unknown, uploads: Record<string, Buffer>): Record<string, unknown> {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new ApiFault(400, "Bad Request: can't parse InputMedia: expected an Object");
    const o = item as Record<string, unknown>;
    if (o.type === undefined) throw new ApiFault(400, `Bad Request: can't parse InputMedia: Can't find field "type"`);
    const type = str(o.type);
    if (type === "animation") throw new ApiFault(400, `Bad Request: can't parse InputMedia: type "animation" can't be used in sendMediaGroup`);
    if (type === "document" || type === "audio") throw new ApiFault(400, `Bad Request: the Telegram API double does not support InputMedia of type "${type}"`);
    if (type !== "photo" && type !== "video") throw new ApiFault(400, `Bad Request: can't parse InputMedia: type "${type}" is unsupported`);
    const caption = this.caption(o);
    const media = typeof o.media === "string" ? o.media : "";
    let upload: Buffer | undefined;
    let stored: StoredFile | undefined;
    if (media.startsWith("attach://")) {
      upload = uploads[media.slice("attach://".length)];
      if (upload === undefined) throw new ApiFault(400, "Bad Request: can't parse InputMedia: media not found");
    } else if (media === "") {
      throw new ApiFault(400, "Bad Request: can't parse InputMedia: media not found");
    } else if (/^https?:\/\//i.test(media)) {
      throw new ApiFault(400, "Bad Request: failed to get HTTP URL content (the Telegram API double does not fetch URLs)");
    } else {
      stored = this.files.get(media);
      if (stored === undefined) throw new ApiFault(400, "Bad Request: wrong file identifier/HTTP URL specified");
      if (stored.kind !== type) throw new ApiFault(400, `Bad Request: can't use file of type ${capitalize(stored.kind)} as ${capitalize(type)}`);
    }
    if (type === "photo") {
      if (stored !== undefined) return { photo: this.photoSizes(stored, stored.size), ...caption };
      const dims = jpegDimensions(upload as Buffer);
      if (dims === undefined) throw new ApiFault(400, "Bad Request: IMAGE_PROCESS_FAILED");
      return { photo: this.photoSizes(dims, (upload as Buffer).length), ...caption };
    }
    const attrs =
      stored?.kind === "video"
        ? { width: stored.width, height: stored.height, duration: stored.duration }
        : { width: Number(o.width ?? 1280), height: Number(o.height ?? 720), duration: Number(o.duration ?? 0) };
    return { video: this.videoFile(attrs, stored?.size ?? (upload as Buffer).length), ...caption };
  }

  private setWebhook(call: ApiCall): true {
    const p = call.params;
    const raw = str(p.url).trim();
    if (truthy(p.drop_pending_updates)) this.updates.length = 0;
    if (raw === "") {
      // As with Telegram, an empty URL removes the webhook.
      this.hook = undefined;
      return true;
    }
    let target: URL;
    try {
      target = new URL(raw);
    } catch {
      throw new ApiFault(400, "Bad Request: bad webhook: invalid webhook URL specified");
    }
    if (target.protocol !== "https:") throw new ApiFault(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    const secret = p.secret_token === undefined || p.secret_token === "" ? undefined : str(p.secret_token);
    if (secret !== undefined) {
      if (secret.length > 256) throw new ApiFault(400, "Bad Request: secret token is too long");
      if (!/^[A-Za-z0-9_-]+$/.test(secret)) throw new ApiFault(400, "Bad Request: secret token contains unallowed characters");
    }
    const allowed = parseList(p.allowed_updates);
    this.hook = {
      url: raw,
      ...(secret === undefined ? {} : { secretToken: secret }),
      ...(p.max_connections === undefined ? {} : { maxConnections: Number(p.max_connections) }),
      ...(p.ip_address === undefined ? {} : { ipAddress: str(p.ip_address) }),
      ...(allowed === undefined ? {} : { allowedUpdates: allowed }),
      dropPendingUpdates: truthy(p.drop_pending_updates),
      hasCustomCertificate: call.files.certificate !== undefined,
    };
    // A long poll still waiting cannot go on once updates go to the webhook.
    this.poll?.answer(new ApiFault(409, CONFLICT_WEBHOOK));
    return true;
  }

  private webhookInfo(): Record<string, unknown> {
    const hook = this.hook;
    const info: Record<string, unknown> = { url: hook?.url ?? "", has_custom_certificate: hook?.hasCustomCertificate ?? false, pending_update_count: this.updates.length };
    if (hook === undefined) return info;
    info.max_connections = hook.maxConnections ?? 40;
    if (hook.ipAddress !== undefined) info.ip_address = hook.ipAddress;
    if (hook.allowedUpdates !== undefined) info.allowed_updates = hook.allowedUpdates;
    return info;
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
    this.poll?.answer(new ApiFault(409, CONFLICT_POLLER));
    return new Promise((resolve, reject) => {
      const entry = {
        answer: (outcome: "updates" | "empty" | ApiFault | NoAnswer) => {
          clearTimeout(timer);
          res.off("close", onClose);
          if (this.poll === entry) this.poll = undefined;
          if (outcome instanceof Error) reject(outcome);
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

/** The `media` parameter of sendMediaGroup: a JSON array (a string in forms, an array in JSON bodies). */
function mediaArray(v: unknown): unknown[] {
  if (v === undefined || v === "") throw new ApiFault(400, 'Bad Request: parameter "media" is required');
  let value = v;
  if (typeof v === "string") {
    try {
      value = JSON.parse(v);
    } catch {
      throw new ApiFault(400, "Bad Request: can't parse media JSON object");
    }
  }
  if (value === null) return [];
  if (!Array.isArray(value)) throw new ApiFault(400, "Bad Request: expected an Array of InputMedia");
  return value;
}

function parseList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  let value = v;
  if (typeof v === "string") {
    try {
      value = JSON.parse(v);
    } catch {
      throw new ApiFault(400, "Bad Request: can't parse allowed updates JSON object");
    }
  }
  return Array.isArray(value) ? value.map((x) => String(x)) : undefined;
}

function truthy(v: unknown): boolean {
  return v === true || v === "true" || v === "1" || v === 1;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Ends a connection with a TCP reset, as a dropped uplink or a crashed proxy does. */
function reset(res: ServerResponse): void {
  const socket = res.socket;
  if (socket !== null && typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else res.destroy();
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
