import { Counter, type Logger, type ServiceMetrics } from "@picket/runtime";
import { Telegraf } from "telegraf";
import { formatLocalTime, helpText, pingCaption, plain, withoutPhoto } from "./caption.js";
import { RefusalLimiter, checkUpdate, refusalText, startCode } from "./chat-guard.js";
import { PairingAttemptLimiter, pairingReply, type ChatInfo, type RedeemResult } from "@picket/runtime";
import type { ChatOutbox } from "./chat-outbox.js";
import { setWebhookParams, startWebhookServer, webhookPath, type WebhookServer } from "./webhook.js";
import type { PresenceEvent } from "@picket/contracts";
import { MAX_CLIP_REQUEST_S } from "@picket/contracts";
import { alertButtons, deviceButtons, parseAction, type AlertAction, type Button } from "./alert-buttons.js";
import { describeDuration, parseDuration, type Household } from "./household.js";
import type { Snapshot } from "./snapshot-client.js";
import { toTelegramCallError, type TelegramCallError } from "./telegram-errors.js";

export interface TelegramBotOptions {
  token: string;
  apiRoot: string;
  /** The paired chats: their people may command the bot. */
  chats: { has(chatId: number): boolean };
  /** Pairs a chat that sends `/start CODE` with the owner's code. */
  pairing?: { redeem(chat: ChatInfo, typed: string, by: string): Promise<RedeemResult> };
  device: string;
  timeZone?: string;
  /** Per upload or message, ms; a slow link gets its own generous budget, not the connect timeout. */
  uploadTimeoutMs: number;
  log: Logger;
  metrics: ServiceMetrics;
  /** What the commands ask of the rest of Picket. */
  ports: CommandPorts;
  /** The web UI's public address, for the alert's Live button. */
  liveUrl?: string;
  /** Arming and snooze, changed from the chat; commands that need it say so when absent. */
  /** A hub's bot: its alerts are about many cameras, and arming is not set from here. */
  fleet?: boolean;
  /** A hub's bot: arms or disarms every camera of the fleet (each keeps its own setting); resolves with the words for the chat. */
  fleetArming?: (mode: "armed" | "disarmed", by: string) => Promise<string>;
  household?: Household;
  /** Every answer goes through the chats' queues, within Telegram's limits and after earlier alerts. */
  outbox: ChatOutbox;
  /** The /status text. */
  status: () => string | Promise<string>;
  /** Webhook mode instead of long polling: Telegram posts updates to `url`, with `secret`. */
  webhook?: { url: string; secret: string; port: number; host?: string };
  /** Polling died for good after start (token revoked, a second poller): a person must act. */
  onFatal: (err: TelegramCallError) => void;
}

/** How one message is sent. */
export interface SendOptions {
  /** Arrives without sound (Telegram's `disable_notification`): silent alerts and quiet hours. */
  silent?: boolean;
}

/** The API field for a silent send; nothing at all for a normal one. */
const quiet = (send: SendOptions) => (send.silent === true ? { disable_notification: true } : {});

/** A clip made on request, or why there is none. */
export type RequestedClip = { ok: true; mp4: Uint8Array; durationMs: number } | { ok: false; reason: string };

/** A device the bot knows of, from its heartbeats. */
export interface KnownDevice {
  device: string;
  online: boolean;
  /** Wall clock of its last heartbeat, ms. */
  lastSeen: number | undefined;
}

/** A recent alert and its stored photo. */
export interface PastEvent {
  event: PresenceEvent;
  jpeg: Buffer | undefined;
}

export interface CommandPorts {
  snapshot(device: string, signal: AbortSignal): Promise<Snapshot>;
  clip(device: string, seconds: number, signal: AbortSignal): Promise<RequestedClip>;
  /** The last `n` alerts of this device, newest last. */
  recentEvents(n: number, signal: AbortSignal): Promise<PastEvent[]>;
  /** This device first, then the others seen on the bus. */
  devices(): KnownDevice[];
}

export type PollingState = "idle" | "starting" | "polling" | "webhook" | "stopped" | "failed";

const FILENAME = "picket.jpg";
/** Commands that change the house older than this (sent while the bot was down) are not carried out. */
const STALE_COMMAND_S = 120;

/** What Telegram shows in the command menu. */
export const COMMANDS = [
  { command: "status", description: "Armed or not, snoozed or not, the last alert" },
  { command: "snapshot", description: "A photo from the camera now: /snapshot [camera]" },
  { command: "clip", description: "A video of the last seconds: /clip [camera] [seconds]" },
  { command: "events", description: "The last alerts, with their photos" },
  { command: "devices", description: "The cameras, online or not" },
  { command: "arm", description: "Alarms on" },
  { command: "disarm", description: "Alarms off until /arm" },
  { command: "snooze", description: "No alerts for a while: /snooze 1h, /snooze off" },
  { command: "help", description: "What this bot does" },
];

/** telegraf types its signal with the abort-controller shim; node-fetch accepts Node's own at run time. */
type ShimSignal = NonNullable<NonNullable<Parameters<Telegraf["telegram"]["callApi"]>[2]>["signal"]>;
const shim = (s: AbortSignal) => s as unknown as ShimSignal;
const STOP_WAIT_MS = 3_000;
/** /events shows this many alerts, from this many days back at most. */
const EVENTS_SHOWN = 5;
export const EVENTS_DAYS = 7;
/** A clip asked for with a button. */
const DEFAULT_CLIP_S = 10;

/**
 * The household's Telegram bot: long polling for commands from allowed chats, and the
 * sends that alerts use. Errors leave here as {@link TelegramCallError}s, which carry no
 * token and no payload.
 */
export function createTelegramBot(opts: TelegramBotOptions) {
  const log = opts.log.child({ module: "telegram" });
  // telegraf resolves `./bot<token>/<method>` against apiRoot: a trailing slash keeps a path prefix (a proxy's /telegram/).
  const apiRoot = opts.apiRoot.endsWith("/") ? opts.apiRoot : `${opts.apiRoot}/`;
  const bot = new Telegraf(opts.token, { telegram: { apiRoot }, handlerTimeout: 2 * opts.uploadTimeoutMs });
  const allowed = opts.chats;
  const pairingTries = new PairingAttemptLimiter();
  const stopping = new AbortController();
  const updates = new Counter({ name: "picket_bot_updates_total", help: "Telegram updates received, by outcome", labelNames: ["result"] as const, registers: [opts.metrics.registry] });
  const sends = new Counter({ name: "picket_bot_sends_total", help: "Messages sent to Telegram, by method and outcome", labelNames: ["method", "result"] as const, registers: [opts.metrics.registry] });
  const refusals = new RefusalLimiter();
  let state: PollingState = "idle";
  let running: Promise<void> | undefined;
  let webhookServer: WebhookServer | undefined;

  /** Runs one call with its own timeout; resolves with the id of the message it created. */
  const call = async (method: "sendPhoto" | "sendMessage" | "sendVideo" | "sendMediaGroup", run: (signal: AbortSignal) => Promise<unknown>, signal: AbortSignal, timeoutMs = opts.uploadTimeoutMs): Promise<number | undefined> => {
    // Held until the call settles: a timeout signal that only AbortSignal.any refers to can be
    // garbage-collected before it fires (Node 20), and a hung upload would then never end.
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const result = await run(AbortSignal.any([signal, timeout]));
      sends.inc({ method, result: "ok" });
      const first = Array.isArray(result) ? (result[0] as unknown) : result;
      const id = (first as { message_id?: unknown } | null)?.message_id;
      return typeof id === "number" ? id : undefined;
    } catch (err) {
      sends.inc({ method, result: "failed" });
      const e = toTelegramCallError(method, err);
      // A revoked token (401) seen on a send: as fatal as on a poll (and in webhook mode nothing polls).
      if (e.kind === "fatal" && !stopping.signal.aborted && !fatalReported) {
        fatalReported = true;
        opts.onFatal(e);
      }
      throw e;
    } finally {
      void timeout.aborted; // keeps the timeout alive until here
    }
  };
  let fatalReported = false;

  const api = {
    /** Uploads a JPEG with a plain-text caption (and the alert's buttons). Throws TelegramCallError. */
    sendPhoto(chatId: number, jpeg: Buffer, caption: string, signal: AbortSignal, buttons?: Button[][], send: SendOptions = {}): Promise<number | undefined> {
      const markup = buttons === undefined ? {} : { reply_markup: { inline_keyboard: buttons } };
      return call("sendPhoto", (s) => bot.telegram.callApi("sendPhoto", { chat_id: chatId, photo: { source: jpeg, filename: FILENAME }, caption, ...markup, ...quiet(send) }, { signal: shim(s) }), signal);
    },
    /**
     * Uploads an event's clip as a reply to its alert photo. A clip is far larger than a photo:
     * its timeout grows with its size (a slow uplink must not fail a good upload).
     */
    sendVideo(chatId: number, mp4: Uint8Array, caption: string, replyTo: number | undefined, durationS: number, signal: AbortSignal, send: SendOptions = {}): Promise<number | undefined> {
      // Multipart: telegraf serializes only some object fields itself, so this one goes as JSON text.
      const reply = replyTo === undefined ? {} : ({ reply_parameters: JSON.stringify({ message_id: replyTo, allow_sending_without_reply: true }) } as unknown as { reply_parameters: { message_id: number } });
      const timeoutMs = opts.uploadTimeoutMs + Math.round(mp4.length / 50);
      return call(
        "sendVideo",
        (s) => bot.telegram.callApi("sendVideo", { chat_id: chatId, video: { source: Buffer.from(mp4.buffer, mp4.byteOffset, mp4.byteLength), filename: "picket.mp4" }, caption, duration: durationS, supports_streaming: true, ...reply, ...quiet(send) }, { signal: shim(s) }),
        signal,
        timeoutMs,
      );
    },
    /** Sends plain text. Throws TelegramCallError. */
    sendText(chatId: number, text: string, signal: AbortSignal, buttons?: Button[][], replyTo?: number, send: SendOptions = {}): Promise<number | undefined> {
      const markup = buttons === undefined ? {} : { reply_markup: { inline_keyboard: buttons } };
      const reply = replyTo === undefined ? {} : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } };
      return call("sendMessage", (s) => bot.telegram.callApi("sendMessage", { chat_id: chatId, text, link_preview_options: { is_disabled: true }, ...markup, ...reply, ...quiet(send) }, { signal: shim(s) }), signal);
    },
    /** Up to 10 photos as one album, each with its caption. */
    sendAlbum(chatId: number, photos: { jpeg: Buffer; caption: string }[], signal: AbortSignal): Promise<number | undefined> {
      const media = photos.map((p, i) => ({ type: "photo" as const, media: { source: p.jpeg, filename: `picket-${i}.jpg` }, caption: p.caption }));
      return call("sendMediaGroup", (s) => bot.telegram.callApi("sendMediaGroup", { chat_id: chatId, media }, { signal: shim(s) }), signal);
    },
    /** The alert's buttons for the camera it is about (this device's by default). */
    alertButtons(device = opts.device): Button[][] {
      return alertButtons(device, opts.liveUrl, { disarm: opts.fleet !== true });
    },
  };

  /** `/start CODE` from a chat that is not paired: the owner's one-time code pairs it. */
  const pair = async (chat: ChatInfo, code: string, by: string): Promise<void> => {
    let text: string;
    const slot = pairingTries.take(chat.id, Date.now());
    if (!slot.allowed) text = pairingReply({ ok: false, reason: "too-fast", retryAfterMs: slot.retryAfterMs });
    else if (opts.pairing === undefined) text = "Pairing is not available right now; try again in a moment.";
    else {
      try {
        const result = await opts.pairing.redeem(chat, code, by);
        text = pairingReply(result);
        if (result.ok) log.info({ chat: chat.id, type: chat.type, by, already: result.already }, "chat paired");
        else log.warn({ chat: chat.id, by, reason: result.reason, attemptsLeft: result.attemptsLeft }, "pairing refused");
      } catch (err) {
        log.error({ err, chat: chat.id }, "pairing failed");
        text = "Pairing did not work just now; try again in a moment.";
      }
    }
    // Many strangers trying codes must not crowd out alerts: at most 20 such answers a minute.
    const now = Date.now();
    pairingAnswers = pairingAnswers.filter((t) => now - t < 60_000);
    if (pairingAnswers.length >= 20) {
      log.warn({ chat: chat.id }, "too many pairing attempts from strangers; this one gets no answer");
      return;
    }
    pairingAnswers.push(now);
    reply(chat.id, text, "/start");
  };
  let pairingAnswers: number[] = [];

  // First: nothing from outside the allowed chats, or without a person as sender, goes further.
  bot.use((ctx, next) => {
    const verdict = checkUpdate(ctx.update, allowed);
    if (verdict.allowed) {
      updates.inc({ result: "accepted" });
      return next();
    }
    const code = verdict.reason === "unknown-chat" && ctx.chat !== undefined && ctx.message !== undefined && "text" in ctx.message ? startCode(ctx.message.text) : undefined;
    if (code !== undefined && ctx.chat !== undefined && ctx.chat.type !== "channel") {
      updates.inc({ result: "pairing" });
      const c = ctx.chat;
      const title = c.type === "private" ? [c.first_name, c.last_name].filter(Boolean).join(" ") || (c.username ?? "") : c.title;
      void pair({ id: c.id, title: plain(title, 128) || String(c.id), type: c.type }, code, `telegram:${ctx.from?.id ?? "?"}`);
      return undefined;
    }
    updates.inc({ result: verdict.reason });
    const line = { updateId: ctx.update.update_id, reason: verdict.reason, chat: verdict.chatId };
    // The chat id of a stranger is logged so a new user can find theirs for PICKET_TELEGRAM_CHATS.
    if (verdict.reason === "unknown-chat") {
      log.info(line, "ignored update from a chat that is not allowed");
      if (verdict.chatId !== undefined && refusals.shouldRefuse(verdict.chatId, Date.now())) {
        void api.sendText(verdict.chatId, refusalText(verdict.chatId), stopping.signal).catch((err: unknown) => log.debug({ err }, "refusal not sent"));
      }
    } else log.debug(line, "ignored update");
    return undefined;
  });

  /** Sends an answer through the chat's queue: a few tries, errors logged. */
  const answer = (chat: number, what: string, send: (signal: AbortSignal) => Promise<unknown>): Promise<void> =>
    opts.outbox.enqueue(chat, { label: what, priority: 0, maxTries: 3, run: send }).then(
      () => undefined,
      (err: unknown) => log.warn({ err, chat }, `could not answer ${what}`),
    );
  /**
   * Queues a text answer and returns at once: telegraf takes the next updates only when the
   * handlers of these are done, and the answer may wait behind a backlog of alerts in the chat.
   */
  const reply = (chat: number, text: string, what: string): void => {
    void answer(chat, what, (s) => api.sendText(chat, text, s));
  };

  /** The command's words after the command itself. */
  const args = (text: string): string[] => text.split(/\s+/).slice(1).filter((a) => a !== "");
  const names = () => opts.ports.devices().map((d) => d.device);
  /**
   * Which camera a command is about: the one named, else this one when it is the only one
   * known; else the chat gets one button per camera and undefined is returned.
   */
  const whichDevice = (chat: number, named: string | undefined, kind: "snapshot" | "clip"): string | undefined => {
    const known = names();
    if (named !== undefined) {
      if (known.includes(named)) return named;
      void reply(chat, `No camera called "${plain(named, 64)}". Cameras: ${known.join(", ")}.`, `/${kind}`);
      return undefined;
    }
    if (known.length <= 1) return opts.device;
    void answer(chat, `/${kind}`, (s) => api.sendText(chat, kind === "snapshot" ? "Which camera?" : "A clip from which camera?", s, deviceButtons(kind, known)));
    return undefined;
  };

  /** A photo from `device` now. In the background: a slow camera must not hold up the next updates (a Disarm tap). */
  const sendSnapshot = (chat: number, device: string): void => {
    void (async () => {
      const photo = await opts.ports.snapshot(device, stopping.signal);
      const caption = pingCaption(device, Date.now(), opts.timeZone);
      await answer(chat, "/snapshot", (s) => (photo.ok ? api.sendPhoto(chat, photo.jpeg, caption, s) : api.sendText(chat, withoutPhoto(caption, photo.reason), s)));
      log.info({ chat, device, photo: photo.ok }, "answered /snapshot");
    })().catch((err: unknown) => {
      log.warn({ err, chat }, "could not answer /snapshot");
      if (!stopping.signal.aborted) void reply(chat, "Could not get a photo just now; try again in a moment.", "/snapshot");
    });
  };

  /** A clip of `device`'s last seconds, as a video. In the background: recording takes that long. */
  const sendRequestedClip = (chat: number, device: string, seconds: number, by: string): void => {
    void (async () => {
      log.info({ chat, device, seconds, by }, "clip asked for");
      const clip = await opts.ports.clip(device, seconds, stopping.signal);
      if (!clip.ok) {
        await reply(chat, `🎬 No clip from ${device}: ${clip.reason}`, "/clip");
        return;
      }
      const durationS = Math.round(clip.durationMs / 1000);
      const caption = `🎬 ${device}, the last ${durationS} s — ${formatLocalTime(Date.now(), opts.timeZone)}`;
      await answer(chat, "/clip", (s) => api.sendVideo(chat, clip.mp4, caption, undefined, durationS, s));
      log.info({ chat, device, bytes: clip.mp4.length, durationS }, "answered /clip");
    })().catch((err: unknown) => {
      log.warn({ err, chat }, "could not answer /clip");
      if (!stopping.signal.aborted) void reply(chat, "Could not make the clip just now; try again in a moment.", "/clip");
    });
  };

  bot.command(["ping", "snapshot"], (ctx) => {
    const device = whichDevice(ctx.chat.id, args(ctx.message.text)[0], "snapshot");
    if (device !== undefined) sendSnapshot(ctx.chat.id, device);
  });

  bot.command("clip", (ctx) => {
    let seconds = 10;
    let named: string | undefined;
    for (const a of args(ctx.message.text)) {
      if (/^\d+s?$/i.test(a)) seconds = Number.parseInt(a, 10);
      else named = a;
    }
    if (seconds < 1 || seconds > MAX_CLIP_REQUEST_S) return reply(ctx.chat.id, `A clip is 1 to ${MAX_CLIP_REQUEST_S} seconds long: /clip 10`, "/clip");
    const device = whichDevice(ctx.chat.id, named, "clip");
    if (device !== undefined) sendRequestedClip(ctx.chat.id, device, seconds, who(ctx));
    return undefined;
  });

  bot.command("devices", (ctx) => {
    const when = (at: number) => formatLocalTime(at, opts.timeZone);
    const lines = opts.ports.devices().map((d) => `${d.online ? "🟢" : "🔴"} ${d.device}${d.device === opts.device ? " (this bot's)" : ""} — ${d.online ? "online" : d.lastSeen === undefined ? "not heard from" : `offline, last heard ${when(d.lastSeen)}`}`);
    return reply(ctx.chat.id, ["Cameras:", ...lines].join("\n"), "/devices");
  });

  bot.command("events", (ctx) => {
    const chat = ctx.chat.id;
    void (async () => {
      const events = await opts.ports.recentEvents(EVENTS_SHOWN, stopping.signal);
      if (events.length === 0) {
        await reply(chat, `No alerts from ${opts.device} in the last ${EVENTS_DAYS} days.`, "/events");
        return;
      }
      const line = (e: PresenceEvent) => `${formatLocalTime(e.at, opts.timeZone)} — ${e.triggers.join(" + ")}${e.test ? " (test)" : ""}`;
      const withPhoto = events.filter((e): e is PastEvent & { jpeg: Buffer } => e.jpeg !== undefined);
      const summary = [`The last ${events.length} alert${events.length === 1 ? "" : "s"} from ${opts.device}:`, ...events.map((e) => line(e.event))].join("\n");
      await reply(chat, summary, "/events");
      if (withPhoto.length === 1) {
        const only = withPhoto[0] as PastEvent & { jpeg: Buffer };
        await answer(chat, "/events", (s) => api.sendPhoto(chat, only.jpeg, line(only.event), s));
      } else if (withPhoto.length > 1) {
        await answer(chat, "/events", (s) => api.sendAlbum(chat, withPhoto.map((e) => ({ jpeg: e.jpeg, caption: line(e.event) })), s));
      }
      log.info({ chat, events: events.length, photos: withPhoto.length }, "answered /events");
    })().catch((err: unknown) => {
      log.warn({ err, chat }, "could not answer /events");
      if (!stopping.signal.aborted) void reply(chat, "Could not read the alerts just now; try again in a moment.", "/events");
    });
  });

  /** Carries out a change to the house from a command or a button; returns the words for the chat. */
  const act = async (action: Exclude<AlertAction, { device: string }>, who: string): Promise<string> => {
    const h = opts.household;
    if (h === undefined) return "Settings are not reachable right now; try again in a moment.";
    switch (action.kind) {
      case "arm":
      case "disarm": {
        // A hub's settings are not its devices' (each reads its own): saying "armed" would be a lie.
        if (opts.fleet === true) {
          if (opts.fleetArming === undefined) return "Settings are not reachable right now; try again in a moment.";
          return opts.fleetArming(action.kind === "arm" ? "armed" : "disarmed", who);
        }
        const replaced = h.arming?.mode === "scheduled" ? "\nThe weekly arming schedule is replaced; set it again with npm run settings on the device." : "";
        await h.setArming(action.kind === "arm" ? "armed" : "disarmed");
        log.info({ by: who, replacedSchedule: replaced !== "" }, action.kind === "arm" ? "armed from Telegram" : "disarmed from Telegram");
        return action.kind === "arm" ? `✅ ${opts.device} is armed: you get a photo when someone is there.${replaced}` : `⏸ ${opts.device} is disarmed: no alarms until /arm.${replaced}`;
      }
      case "snooze": {
        const until = await h.snooze(action.ms, who);
        log.info({ by: who, until }, "alerts snoozed from Telegram");
        return `🔕 Alerts from ${opts.device} are snoozed for ${describeDuration(action.ms)}, until ${formatLocalTime(until, opts.timeZone)}. Events are still recorded. /snooze off ends it.`;
      }
      case "unsnooze":
        await h.unsnooze();
        log.info({ by: who }, "snooze ended from Telegram");
        return `🔔 Alerts from ${opts.device} are on again.`;
    }
  };
  const who = (ctx: { from?: { id: number } }) => `telegram:${ctx.from?.id ?? "?"}`;
  /** A command that changes the house, sent while the bot was down long ago, is not carried out late. */
  const stale = (ctx: { message: { date: number }; chat: { id: number } }, what: string): boolean => {
    if (Date.now() / 1000 - ctx.message.date <= STALE_COMMAND_S) return false;
    log.warn({ chat: ctx.chat.id, ageS: Math.round(Date.now() / 1000 - ctx.message.date) }, `ignored an old ${what}`);
    void reply(ctx.chat.id, `${what} was sent while the bot was away, so it was not carried out. Send it again if you still want it.`, what);
    return true;
  };

  bot.command("arm", async (ctx) => (stale(ctx, "/arm") ? undefined : reply(ctx.chat.id, await act({ kind: "arm" }, who(ctx)), "/arm")));
  bot.command("disarm", async (ctx) => (stale(ctx, "/disarm") ? undefined : reply(ctx.chat.id, await act({ kind: "disarm" }, who(ctx)), "/disarm")));
  bot.command("snooze", async (ctx) => {
    if (stale(ctx, "/snooze")) return;
    const arg = ctx.message.text.split(/\s+/).slice(1).join(" ").trim().toLowerCase();
    if (arg === "off") return reply(ctx.chat.id, await act({ kind: "unsnooze" }, who(ctx)), "/snooze");
    let ms: number;
    try {
      ms = arg === "" ? 3_600_000 : parseDuration(arg);
    } catch (err) {
      return reply(ctx.chat.id, `${(err as Error).message}. Usage: /snooze 1h, /snooze 30m, /snooze off`, "/snooze");
    }
    return reply(ctx.chat.id, await act({ kind: "snooze", ms }, who(ctx)), "/snooze");
  });
  bot.command("status", async (ctx) => reply(ctx.chat.id, await opts.status(), "/status"));

  // The alert's buttons. The answer (a toast in the app) comes first, so the spinner stops.
  bot.on("callback_query", async (ctx) => {
    const data = "data" in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    const action = parseAction(data);
    if (action === undefined) {
      await ctx.answerCbQuery("Unknown button").catch(() => undefined);
      log.warn({ data: plain(String(data ?? ""), 64) }, "unknown button");
      return;
    }
    try {
      // Answered first: Telegram refuses to answer a press too old (one queued while the bot
      // was down), and such a press must not change the house hours later.
      const fresh = await ctx.answerCbQuery().then(
        () => true,
        () => false,
      );
      if (!fresh) {
        log.warn({ action: action.kind }, "ignored a button pressed long ago");
        return;
      }
      const chat = ctx.chat?.id;
      if (action.kind === "snapshot" || action.kind === "clip") {
        if (chat === undefined) return;
        if (!names().includes(action.device)) await reply(chat, `No camera called "${action.device}" any more.`, "a button");
        else if (action.kind === "snapshot") sendSnapshot(chat, action.device);
        else sendRequestedClip(chat, action.device, DEFAULT_CLIP_S, who(ctx));
        return;
      }
      const text = await act(action, who(ctx));
      if (chat !== undefined) await reply(chat, text, "a button");
    } catch (err) {
      log.error({ err }, "button action failed");
      const chat = ctx.chat?.id;
      if (chat !== undefined) await reply(chat, "That did not work; try again.", "a button");
    }
  });

  bot.command(["start", "help"], (ctx) => reply(ctx.chat.id, helpText(opts.device), "/help"));

  // Replaces telegraf's default, which prints the whole update and rethrows.
  bot.catch((err, ctx) => {
    log.error({ err: toTelegramCallError("handleUpdate", err), updateId: ctx.update.update_id }, "update handling failed");
  });

  const startPolling = () =>
    new Promise<void>((resolve, reject) => {
      let launched = false;
      running = bot.launch({ dropPendingUpdates: false }, () => {
        launched = true;
        state = "polling";
        resolve();
      });
      running.then(
        () => {
          state = "stopped";
        },
        (err: unknown) => {
          const e = toTelegramCallError("launch", err);
          state = "failed";
          if (!launched) reject(e);
          else if (!stopping.signal.aborted) opts.onFatal(e);
        },
      );
    });

  /**
   * Webhook mode: our own receiver (secret checked, bodies bounded, re-sent updates dropped)
   * feeds telegraf, then Telegram is told where to post. Updates that waited while the bot was
   * down are kept (drop_pending_updates false), like polling does.
   */
  const startWebhook = async (hook: NonNullable<TelegramBotOptions["webhook"]>): Promise<void> => {
    try {
      bot.botInfo = await bot.telegram.getMe();
    } catch (err) {
      state = "failed";
      throw toTelegramCallError("getMe", err);
    }
    const { url, extra } = setWebhookParams(hook.url, hook.secret);
    webhookServer = await startWebhookServer({
      host: hook.host ?? "0.0.0.0",
      port: hook.port,
      path: webhookPath(hook.secret),
      secretToken: hook.secret,
      log: opts.log,
      onUpdate: (update) => bot.handleUpdate(update as Parameters<Telegraf["handleUpdate"]>[0]),
    });
    try {
      await bot.telegram.setWebhook(url, extra);
    } catch (err) {
      await webhookServer.close();
      state = "failed";
      throw toTelegramCallError("setWebhook", err);
    }
    state = "webhook";
    log.info({ port: webhookServer.port, publicOrigin: new URL(hook.url).origin }, "webhook set; Telegram posts updates here");
  };

  return {
    ...api,
    get state(): PollingState {
      return state;
    },
    /**
     * Checks the token (getMe) and starts long polling. Resolves once launched; rejects
     * with a TelegramCallError when that fails (bad token, API unreachable). Polling
     * failing later is reported through `onFatal`.
     */
    async start(): Promise<{ username: string | undefined }> {
      state = "starting";
      if (opts.webhook !== undefined) await startWebhook(opts.webhook);
      else await startPolling();
      bot.telegram
        .setMyCommands(COMMANDS)
        .catch((err: unknown) => log.warn({ err: toTelegramCallError("setMyCommands", err) }, "could not register the command menu"));
      return { username: bot.botInfo?.username };
    },
    /** Stops polling (aborting the pending long poll) and cancels sends in progress. */
    async stop(): Promise<void> {
      stopping.abort(new Error("bot stopping"));
      await webhookServer?.close();
      if (state === "polling") {
        try {
          bot.stop("shutdown");
        } catch (err) {
          log.debug({ err }, "polling had not started");
        }
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running?.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(timer);
      if (state !== "failed") state = "stopped";
    },
  };
}

export type TelegramBot = ReturnType<typeof createTelegramBot>;
