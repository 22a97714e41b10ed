import { URL } from "node:url";
import { MediaEvent, PresenceEvent } from "@picket/contracts";
import { Counter, watchConnection, type KV, type Logger, type NatsConnection, type ServiceMetrics } from "@picket/runtime";
import { formatLocalTime } from "./caption.js";
import { openHousehold, type Household } from "./household.js";
import { createAlertConsumer, type AlertConsumer, type AlertDecision } from "./alert-consumer.js";
import { AlertDelivery } from "./alert-delivery.js";
import { natsSnapshotRequest, takeSnapshot, type Snapshot } from "./snapshot-client.js";
import { createTelegramBot, type TelegramBot } from "./telegram-bot.js";
import { toTelegramCallError, type TelegramCallError } from "./telegram-errors.js";

export interface BotServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  device: string;
  /** Without a token the service stays up, healthy and silent. */
  telegramToken: string | undefined;
  apiRoot: string;
  chats: number[];
  timeZone: string | undefined;
  uploadTimeoutMs: number;
  /** The settings bucket: arming and snooze, changed from the chat. */
  settings?: KV;
  /** Reads an event's stored clip. */
  storedClip?: (name: string) => Promise<Uint8Array | undefined>;
  /** Reads an event's stored snapshot, waiting up to `timeoutMs` for it to appear. */
  storedPhoto?: (name: string, timeoutMs: number, signal: AbortSignal) => Promise<Uint8Array | undefined>;
  /** Telegram stopped working for good after start; main shuts down and exits 1. */
  onFatal: (err: TelegramCallError) => void;
}

const SNAPSHOT = { attempts: 4, timeoutMs: 2_000 };
/** How long an alert waits for the camera to store the trigger frame before it takes a fresh picture. */
const STORED_PHOTO_WAIT_MS = 2_000;
/** Telegram takes videos up to 50 MB from bots. */
const CLIP_LIMIT_BYTES = 50 * 1024 * 1024;
/** A clip whose alert is not taken yet waits this long (from the clip's start) for it. */
const CLIP_WAIT_MS = 3 * 60_000;
/** Tries per chat for a clip that keeps failing. */
const CLIP_MAX_TRIES = 10;
/** The camera answers from memory; a slow answer means trouble, and the stored frame is the fallback. */
const TRIGGER_FRAME_TIMEOUT_MS = 500;

/**
 * The bot service: presence events from JetStream become photos in every allowed chat,
 * and people in those chats can ask for a photo with /ping. Start order: the durable
 * consumer exists first (so no event is missed), then Telegram polling, then events flow.
 */
export function createBotService(deps: BotServiceDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "bot" });
  const link = watchConnection(nc);
  const alerts = new Counter({ name: "picket_bot_alerts_total", help: "Presence alerts handled, by outcome", labelNames: ["result"] as const, registers: [deps.metrics.registry] });
  const request = natsSnapshotRequest(nc, device);
  const snapshot = (signal: AbortSignal) => takeSnapshot(request, { ...SNAPSHOT, signal });
  /**
   * The event's trigger frame: asked of the camera at once (it keeps the last seconds' stills),
   * else read from the media store when the camera has stored it, else a fresh still.
   */
  const eventPhoto = async (event: PresenceEvent, signal: AbortSignal): Promise<Snapshot> => {
    const moment = await natsSnapshotRequest(nc, device, undefined, event.at)(TRIGGER_FRAME_TIMEOUT_MS);
    if (moment.ok) return moment;
    log.debug({ eventId: event.id, reason: moment.reason }, "the camera has no still of the trigger moment; reading the stored one");
    const name = event.media?.snapshot;
    if (name !== undefined && deps.storedPhoto !== undefined) {
      const jpeg = await deps.storedPhoto(name, STORED_PHOTO_WAIT_MS, signal).catch((err: unknown) => {
        log.warn({ err, eventId: event.id }, "could not read the event's snapshot; taking a fresh one");
        return undefined;
      });
      if (jpeg !== undefined) return { ok: true, jpeg: Buffer.from(jpeg) };
      log.warn({ eventId: event.id, object: name }, "the event's snapshot is not stored yet; taking a fresh one");
    }
    return snapshot(signal);
  };
  let telegram: TelegramBot | undefined;
  let clips: AlertConsumer<MediaEvent> | undefined;
  const clipsSent = new Set<string>();
  const clipTries = new Map<string, number>();
  /** Alerts held back by a snooze: their clips are not sent either. */
  const snoozed = new Set<string>();

  /**
   * An event's clip, as a video replying to its alert photo in each chat that has it. It
   * waits (nak) while the alert itself is still on its way; an alert that was never sent
   * (snoozed, or from before a restart) gets no clip.
   */
  const sendClip = async (media: MediaEvent, signal: AbortSignal, tg: TelegramBot): Promise<AlertDecision> => {
    if (media.media !== "clip" || media.object === undefined || deps.storedClip === undefined) return { ack: true };
    const messages = delivery?.alertMessages(media.eventId);
    if (messages === undefined) {
      // Its alert is on its way, or not taken yet (the alert queue is behind): wait for it, a while.
      const waiting = delivery?.isPending(media.eventId) === true || (!snoozed.has(media.eventId) && Date.now() - media.at < CLIP_WAIT_MS);
      if (waiting) return { ack: false, delayMs: 2_000 };
      log.info({ eventId: media.eventId }, "clip of an alert that was not sent here (snoozed, or before a restart); not sent");
      return { ack: true };
    }
    if ((media.bytes ?? 0) > CLIP_LIMIT_BYTES) {
      log.warn({ eventId: media.eventId, bytes: media.bytes }, "clip larger than Telegram takes from bots; not sent");
      return { ack: true };
    }
    const mp4 = await deps.storedClip(media.object);
    if (mp4 === undefined) {
      log.warn({ eventId: media.eventId, object: media.object }, "clip no longer in the media store; not sent");
      return { ack: true };
    }
    const durationS = Math.round((media.durationMs ?? 0) / 1000);
    for (const [chat, messageId] of messages) {
      const key = `${media.eventId}/${chat}`;
      if (clipsSent.has(key)) continue;
      try {
        await tg.sendVideo(chat, mp4, `🎬 ${durationS} s around the alert`, messageId, durationS, signal);
        clipsSent.add(key);
        if (clipsSent.size > 1_000) clipsSent.delete(clipsSent.values().next().value as string);
      } catch (e) {
        const err = toTelegramCallError("sendVideo", e);
        const tries = (clipTries.get(key) ?? 0) + 1;
        clipTries.set(key, tries);
        if (clipTries.size > 1_000) clipTries.delete(clipTries.keys().next().value as string);
        if (err.kind === "retry" && err.code !== 413 && tries < CLIP_MAX_TRIES) {
          log.warn({ err, eventId: media.eventId, chat, tries }, "clip not sent yet; retrying");
          return { ack: false, delayMs: Math.max(err.retryAfterMs ?? 0, 5_000) };
        }
        log.error({ err, eventId: media.eventId, chat, tries }, "giving up on this clip for this chat");
        clipsSent.add(key);
      }
    }
    log.info({ eventId: media.eventId, chats: [...messages.keys()], bytes: mp4.length }, "clip sent");
    return { ack: true };
  };
  let household: Household | undefined;
  let lastAlert: PresenceEvent | undefined;

  const statusText = (): string => {
    const when = (at: number) => formatLocalTime(at, deps.timeZone);
    const arming = household?.arming;
    const armingText =
      arming === undefined ? "armed (default)" : arming.mode === "scheduled" ? `on a schedule (${arming.schedule.map((w) => `${w.from}–${w.to}`).join(", ")})` : arming.mode;
    const until = household?.snoozedUntil();
    return [
      `Picket on ${device}`,
      `Arming: ${armingText}`,
      `Alerts: ${until === undefined ? "on" : `snoozed until ${when(until)}`}`,
      `Last alert: ${lastAlert === undefined ? "none since the bot started" : `${when(lastAlert.at)}${lastAlert.test ? " (test)" : ""}`}`,
    ].join("\n");
  };
  let consumer: AlertConsumer | undefined;
  let delivery: AlertDelivery | undefined;
  let delivered = 0;

  const handle = async (event: PresenceEvent, signal: AbortSignal): Promise<AlertDecision> => {
    if (event.state !== "started") return { ack: true };
    // An alert already on its way to some chats finishes; a snooze holds back new ones.
    const snoozedUntil = event.test || delivery?.isPending(event.id) === true ? undefined : household?.snoozedUntil();
    if (snoozedUntil !== undefined) {
      snoozed.add(event.id);
      if (snoozed.size > 1_000) snoozed.delete(snoozed.values().next().value as string);
      alerts.inc({ result: "snoozed" });
      log.info({ eventId: event.id, snoozedUntil }, "alert not sent: snoozed");
      return { ack: true };
    }
    const outcome = await (delivery as AlertDelivery).deliver(event, signal);
    if (outcome.kind === "duplicate") {
      log.info({ eventId: event.id }, "alert redelivered but every chat has it; acked without sending");
      return { ack: true };
    }
    if (outcome.kind === "delivered") {
      delivered++;
      lastAlert = event;
      alerts.inc({ result: outcome.gaveUp.length > 0 ? "partial" : "delivered" });
      log.info({ eventId: event.id, test: event.test, chats: outcome.sentTo, gaveUp: outcome.gaveUp, photo: outcome.photo, ageMs: Date.now() - event.at }, "alert delivered");
      return { ack: true };
    }
    alerts.inc({ result: "retry" });
    log.warn({ eventId: event.id, pending: outcome.pending, retryInMs: outcome.delayMs, err: outcome.error }, "alert not delivered to every chat yet; retrying");
    return { ack: false, delayMs: outcome.delayMs };
  };

  return {
    async start(): Promise<void> {
      if (deps.telegramToken === undefined) {
        log.info("bot off: PICKET_TELEGRAM_TOKEN is not set");
        return;
      }
      if (deps.settings !== undefined) household = await openHousehold(deps.settings, device, log);
      if (deps.chats.length === 0) log.warn("PICKET_TELEGRAM_CHATS is empty: alerts go nowhere and commands are ignored");
      const tg = createTelegramBot({
        token: deps.telegramToken,
        apiRoot: deps.apiRoot,
        allowedChats: deps.chats,
        device,
        ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }),
        uploadTimeoutMs: deps.uploadTimeoutMs,
        log: deps.log,
        metrics: deps.metrics,
        snapshot,
        ...(household === undefined ? {} : { household }),
        status: statusText,
        onFatal: deps.onFatal,
      });
      delivery = new AlertDelivery({ chats: deps.chats, ports: { photo: eventPhoto, sendPhoto: (chat, jpeg, caption, signal) => tg.sendPhoto(chat, jpeg, caption, signal, true), sendText: tg.sendText }, log, ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }) });
      consumer = createAlertConsumer({ nc, device, log: deps.log, metrics: deps.metrics, kind: "presence", schema: PresenceEvent, handle });
      await consumer.prepare();
      if (deps.storedClip !== undefined) {
        clips = createAlertConsumer({ nc, device, log: deps.log, metrics: deps.metrics, kind: "media", schema: MediaEvent, handle: (e, signal) => sendClip(e, signal, tg) });
        await clips.prepare();
      }
      telegram = tg;
      const { username } = await tg.start();
      await consumer.start();
      await clips?.start();
      log.info({ username, apiRoot: new URL(deps.apiRoot).origin, chats: deps.chats.length }, "bot polling for updates; alerts on");
    },
    async stop(): Promise<void> {
      await telegram?.stop();
      await consumer?.stop();
      await clips?.stop();
      household?.stop();
    },
    health() {
      const polling = telegram?.state ?? "off";
      const ok = link.connected && (deps.telegramToken === undefined || polling === "polling");
      return { ok, nats: link.connected, telegram: polling, alertsInFlight: consumer?.inFlight ?? 0, alertsRetrying: delivery?.tracked ?? 0 };
    },
    vitals(): Record<string, number> {
      return { polling: telegram?.state === "polling" ? 1 : 0, alertsDelivered: delivered, alertsRetrying: delivery?.tracked ?? 0 };
    },
  };
}
