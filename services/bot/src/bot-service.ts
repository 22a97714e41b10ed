import { URL } from "node:url";
import { ClipReply, DeviceStatusEvent, FLEET_BUCKET, MediaEvent, PresenceEvent, decodeJson, parseArming, parseDeviceSetting, parseSubject, settingsKeys, subjects, type ClipRequest, type Snooze } from "@picket/contracts";
import { Counter, Histogram, Kvm, SettingWriteError, deviceSettingsStores, watchConnection, type KV, type Logger, type NatsConnection, type ServiceMetrics, type Subscription } from "@picket/runtime";
import { formatLocalTime } from "./caption.js";
import { openHousehold, type Household } from "./household.js";
import { createAlertConsumer, type AlertConsumer, type AlertDecision } from "./alert-consumer.js";
import { AlertDelivery } from "./alert-delivery.js";
import { ChatOutbox, JobDropped } from "./chat-outbox.js";
import { kvDeliveryLog } from "./delivery-log.js";
import { describeBusError, natsSnapshotRequest, takeSnapshot, type Snapshot } from "./snapshot-client.js";
import { EVENTS_DAYS, createTelegramBot, type CommandPorts, type RequestedClip, type TelegramBot } from "./telegram-bot.js";
import { DeviceDirectory } from "./device-directory.js";
import { openNotifications, type Notifications } from "./notifications.js";
import { openPairedChats, type PairedChats } from "@picket/runtime";
import { recentAlerts } from "./recent-events.js";
import { plain } from "./caption.js";
import { deviceStatusMessage } from "./device-status-text.js";
import type { TelegramCallError } from "./telegram-errors.js";

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
  /** Webhook mode: the public https address and its secret; long polling without. */
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  webhookPort?: number;
  /** The web UI as the household reaches it: the alert's Live button links there. */
  liveUrl?: string | undefined;
  /** The bot's state bucket: which chat got which alert, kept across restarts. */
  botState?: KV;
  /** The settings bucket: arming and snooze (changed from the chat), paired chats, notification settings. */
  settings?: KV;
  /** Reads a stored snapshot or clip from the media store. */
  storedMedia?: (name: string, device: string) => Promise<Uint8Array | undefined>;
  /** Reads an event's stored snapshot, waiting up to `timeoutMs` for it to appear. */
  storedPhoto?: (name: string, timeoutMs: number, signal: AbortSignal, device: string) => Promise<Uint8Array | undefined>;
  /** A hub's bot: the household also hears when a device goes offline, comes back or is unwell (the fleet service's events). */
  fleet?: boolean;
  /** Telegram stopped working for good after start; main shuts down and exits 1. */
  onFatal: (err: TelegramCallError) => void;
}

const SNAPSHOT = { attempts: 4, timeoutMs: 2_000 };

/** How long a hub's bot waits for a camera to say whether it is snoozed before alerting anyway. */
const SNOOZE_READ_MS = 500;
/** How long an alert waits for the camera to store the trigger frame before it takes a fresh picture. */
const STORED_PHOTO_WAIT_MS = 2_000;
/** Telegram takes videos up to 50 MB from bots. */
const CLIP_LIMIT_BYTES = 50 * 1024 * 1024;
/** A clip whose alert is not taken yet waits this long (from the clip's start) for it. */
const CLIP_WAIT_MS = 3 * 60_000;
/** Tries per chat for a clip that keeps failing. */
const CLIP_MAX_TRIES = 10;
/** Alerts (and clips) taken from the stream at once: a chat in trouble must not hold up the others. */
const ALERT_CONCURRENCY = 100;
/** The camera answers from memory; a slow answer means trouble, and the stored frame is the fallback. */
const TRIGGER_FRAME_TIMEOUT_MS = 500;

/**
 * The bot service: presence events from JetStream become photos in every allowed chat,
 * and people in those chats can ask for a photo with /ping. Start order: the durable
 * consumer exists first (so no event is missed), then Telegram polling, then events flow.
 */
export type BotService = ReturnType<typeof createBotService>;

export function createBotService(deps: BotServiceDeps) {
  const { nc, device } = deps;
  const log = deps.log.child({ module: "bot" });
  const link = watchConnection(nc);
  const alerts = new Counter({ name: "picket_bot_alerts_total", help: "Presence alerts handled, by outcome", labelNames: ["result"] as const, registers: [deps.metrics.registry] });
  const alertLatency = new Histogram({
    name: "picket_bot_alert_seconds",
    help: "From the input that raised a presence event (its time, the device's clock) to its alert in every paired chat",
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60],
    registers: [deps.metrics.registry],
  });
  const snapshot = (signal: AbortSignal, of = device) => takeSnapshot(natsSnapshotRequest(nc, of), { ...SNAPSHOT, signal });
  const directory = new DeviceDirectory(device);
  let heartbeats: Subscription | undefined;

  /** What the chat's commands ask of the cameras and the stores. */
  const commandPorts: CommandPorts = {
    snapshot: (of, signal) => snapshot(signal, of),
    async clip(of, seconds, signal): Promise<RequestedClip> {
      let reply: ClipReply;
      try {
        const msg = await nc.request(subjects.clipRequest(of), JSON.stringify({ seconds, requestedBy: "telegram" } satisfies ClipRequest), { timeout: (seconds + 20) * 1000 });
        reply = decodeJson(ClipReply, msg.data, subjects.clipRequest(of));
      } catch (err) {
        return { ok: false, reason: describeBusError(err) };
      }
      if (!reply.ok) return { ok: false, reason: plain(reply.error) };
      signal.throwIfAborted();
      const mp4 = await deps.storedMedia?.(reply.object, of);
      if (mp4 === undefined) return { ok: false, reason: "the clip was made but is no longer stored" };
      if (mp4.length > CLIP_LIMIT_BYTES) return { ok: false, reason: `it is ${Math.round(mp4.length / 1e6)} MB, more than Telegram takes from bots; ask for fewer seconds` };
      return { ok: true, mp4, durationMs: reply.durationMs };
    },
    async recentEvents(n, signal) {
      const events = await recentAlerts(nc, device, n, Date.now() - EVENTS_DAYS * 86_400_000);
      return Promise.all(
        events.map(async (event) => {
          const name = event.media?.snapshot;
          const jpeg = name === undefined || deps.storedMedia === undefined || signal.aborted ? undefined : await deps.storedMedia(name, event.device).catch(() => undefined);
          return { event, jpeg: jpeg === undefined ? undefined : Buffer.from(jpeg) };
        }),
      );
    },
    devices: () => directory.list(Date.now()),
  };
  /**
   * The event's trigger frame: asked of the camera at once (it keeps the last seconds' stills),
   * else read from the media store when the camera has stored it, else a fresh still.
   */
  const eventPhoto = async (event: PresenceEvent, signal: AbortSignal): Promise<Snapshot> => {
    const moment = await natsSnapshotRequest(nc, event.device, undefined, event.at)(TRIGGER_FRAME_TIMEOUT_MS);
    if (moment.ok) return moment;
    log.debug({ eventId: event.id, reason: moment.reason }, "the camera has no still of the trigger moment; reading the stored one");
    const name = event.media?.snapshot;
    if (name !== undefined && deps.storedPhoto !== undefined) {
      const jpeg = await deps.storedPhoto(name, STORED_PHOTO_WAIT_MS, signal, event.device).catch((err: unknown) => {
        log.warn({ err, eventId: event.id }, "could not read the event's snapshot; taking a fresh one");
        return undefined;
      });
      if (jpeg !== undefined) return { ok: true, jpeg: Buffer.from(jpeg) };
      log.warn({ eventId: event.id, object: name }, "the event's snapshot is not stored yet; taking a fresh one");
    }
    return snapshot(signal, event.device);
  };
  /** On a hub, each device's settings are its own (read there, written by asking it). */
  const storeOf = deps.fleet === true && deps.settings !== undefined ? deviceSettingsStores(nc, deps.settings, { hub: device, by: "the hub's bot" }) : undefined;
  /** Every camera of the fleet: those the failure detector knows (an offline one too; not one removed from the hub), and any heard just now. */
  const fleetDevices = async (): Promise<string[]> => {
    const ids = new Set(directory.list(Date.now()).filter((d) => d.online).map((d) => d.device));
    try {
      const keys = await (await new Kvm(nc).open(FLEET_BUCKET)).keys();
      for await (const k of keys) ids.add(k);
    } catch (err) {
      log.warn({ err }, "could not read the fleet's devices; arming those heard since the bot started");
    }
    ids.delete(device);
    return [...ids].sort();
  };
  /**
   * A hub's alert of `of` waits while that camera's own snooze (set from the hub's web) runs;
   * undefined when it does not, or when the camera does not say within SNOOZE_READ_MS (an alert
   * is not held up by a slow link: better sent when snoozed than late when not).
   */
  const deviceSnoozedUntil = async (of: string): Promise<number | undefined> => {
    if (storeOf === undefined || of === device) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const entry = await Promise.race([
      storeOf(of)
        .get(settingsKeys.snooze(of))
        .catch(() => null),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), SNOOZE_READ_MS))),
    ]).finally(() => clearTimeout(timer));
    if (entry === null || entry.operation !== "PUT") return undefined;
    let until: number;
    try {
      until = (parseDeviceSetting("snooze", entry.string()) as Snooze).until;
    } catch {
      return undefined; // unreadable: read as unset, as the web reads it
    }
    return until > Date.now() ? until : undefined;
  };
  /** A hub's /arm and /disarm: every camera of the fleet, each in its own settings (it keeps them). */
  const fleetArming = async (mode: "armed" | "disarmed", by: string): Promise<string> => {
    if (storeOf === undefined) return "Settings are not reachable right now; try again in a moment.";
    const ids = await fleetDevices();
    if (ids.length === 0) return "No camera reports to this hub yet: nothing to arm.";
    const results = await Promise.all(
      ids.map((id) =>
        storeOf(id)
          .put(settingsKeys.arming(id), mode)
          .then(() => ({ id, error: undefined }))
          .catch((err: unknown) => ({ id, error: err instanceof SettingWriteError ? err.message : "it could not be reached" })),
      ),
    );
    const done = results.filter((r) => r.error === undefined).map((r) => r.id);
    const failed = results.filter((r) => r.error !== undefined);
    log.info({ by, mode, devices: done, failed: failed.map((f) => f.id) }, mode === "armed" ? "fleet armed from Telegram" : "fleet disarmed from Telegram");
    const head =
      done.length === 0 ? `⚠️ No camera was ${mode}.` : mode === "armed" ? `✅ Armed: ${done.join(", ")}. You get a photo when someone is there.` : `⏸ Disarmed: ${done.join(", ")}. No alarms from them until /arm.`;
    return [head, ...failed.map((f) => `⚠️ ${f.error}`)].join("\n");
  };
  let telegram: TelegramBot | undefined;
  let clips: AlertConsumer<MediaEvent> | undefined;
  let statuses: AlertConsumer<DeviceStatusEvent> | undefined;

  /** A device's new state, as a message to every paired chat. A chat that cannot be reached is logged and skipped. */
  const sendStatus = async (event: DeviceStatusEvent, signal: AbortSignal): Promise<AlertDecision> => {
    const tg = telegram;
    if (tg === undefined) return { ack: false, delayMs: 1_000 };
    const { text, quiet } = deviceStatusMessage(event, deps.timeZone);
    const chats = paired.ids();
    const silent = quiet || silentNow();
    const results = await Promise.allSettled(chats.map((chat) => tg.sendText(chat, text, signal, undefined, undefined, { silent })));
    const failed = chats.filter((_, i) => results[i]?.status === "rejected");
    if (signal.aborted && failed.length > 0) return { ack: false, delayMs: 0 };
    // No chat got it (Telegram or the link is down): again in a while. Some did: the others are
    // not worth a second copy to those (the outbox already retried each send).
    if (chats.length > 0 && failed.length === chats.length) {
      log.warn({ eventId: event.id, device: event.device, state: event.state }, `device ${event.state} news reached no chat; trying again in 10 s`);
      return { ack: false, delayMs: 10_000 };
    }
    log[failed.length > 0 ? "warn" : "info"]({ eventId: event.id, device: event.device, state: event.state, chats: chats.length, failed }, `device ${event.state} news sent`);
    return { ack: true };
  };

  /**
   * An event's clip, as a video replying to its alert photo in each chat that has it. It
   * waits (nak) while the alert was not taken yet (the alert queue is behind); the clip of an
   * alert that was snoozed, or is unknown after a long while, is not sent.
   */
  const sendClip = async (media: MediaEvent): Promise<AlertDecision> => {
    if (media.media !== "clip" || media.object === undefined || deps.storedMedia === undefined || delivery === undefined) return { ack: true };
    if (notifications?.settings.clip === false) {
      log.info({ eventId: media.eventId }, "clip not sent: clips are off in the notification settings");
      return { ack: true };
    }
    const messages = await delivery.alertMessages(media.eventId);
    if (messages === "snoozed") {
      log.info({ eventId: media.eventId }, "clip of a snoozed alert; not sent");
      return { ack: true };
    }
    if (messages === undefined) {
      if (Date.now() - media.at < CLIP_WAIT_MS) return { ack: false, delayMs: 2_000 };
      log.info({ eventId: media.eventId }, "clip of an alert that was not sent here; not sent");
      return { ack: true };
    }
    if (messages.size === 0) return { ack: true };
    if ((media.bytes ?? 0) > CLIP_LIMIT_BYTES) {
      log.warn({ eventId: media.eventId, bytes: media.bytes }, "clip larger than Telegram takes from bots; a note goes instead");
      const note = `🎬 This alert's clip is ${Math.round((media.bytes ?? 0) / 1e6)} MB, more than Telegram takes from bots (50 MB); it is kept on the camera.`;
      await delivery.deliverClip(media.eventId, messages, (chat, replyTo, signal) => telegram?.sendText(chat, note, signal, undefined, replyTo, { silent: silentNow() }) ?? Promise.resolve(), CLIP_MAX_TRIES);
      return { ack: true };
    }
    const mp4 = await deps.storedMedia(media.object, media.device);
    if (mp4 === undefined) {
      log.warn({ eventId: media.eventId, object: media.object }, "clip no longer in the media store; not sent");
      return { ack: true };
    }
    const durationS = Math.round((media.durationMs ?? 0) / 1000);
    const caption = `🎬 ${durationS} s around the alert`;
    const sent = await delivery.deliverClip(media.eventId, messages, (chat, replyTo, signal) => telegram?.sendVideo(chat, mp4, caption, replyTo, durationS, signal, { silent: silentNow() }) ?? Promise.resolve(), CLIP_MAX_TRIES);
    log.info({ eventId: media.eventId, chats: sent, bytes: mp4.length }, sent.length > 0 ? "clip sent" : "clip already sent");
    return { ack: true };
  };
  let household: Household | undefined;
  let notifications: Notifications | undefined;
  /** Whether a send now goes without sound (silent, or quiet hours in PICKET_TZ). */
  const silentNow = () => notifications?.silentAt(Date.now()) ?? false;
  /** The paired chats: kept in the settings bucket, else (no bucket) PICKET_TELEGRAM_CHATS as given. */
  let paired: { has(chat: number): boolean; ids(): number[] } = { has: (c) => deps.chats.includes(c), ids: () => [...deps.chats] };
  let pairedStore: PairedChats | undefined;
  let lastAlert: PresenceEvent | undefined;

  /** A hub's /status: the household's alerts, and each camera of the fleet with its state and arming (read on the camera). */
  const fleetStatusText = async (): Promise<string> => {
    const when = (at: number) => formatLocalTime(at, deps.timeZone);
    const heard = new Map(directory.list(Date.now()).map((d) => [d.device, d.online]));
    const cameras = await Promise.all(
      (await fleetDevices()).map(async (id) => {
        const entry = heard.get(id) === true ? await storeOf?.(id).get(settingsKeys.arming(id)).catch(() => undefined) : undefined;
        let arming = "";
        if (entry !== undefined) {
          try {
            const a = entry === null || entry.operation !== "PUT" ? undefined : parseArming(entry.string());
            arming = `, ${a === undefined ? "armed (default)" : a.mode === "scheduled" ? "armed on a schedule" : a.mode}`;
          } catch {
            arming = ", arming unreadable";
          }
        }
        return `• ${id}: ${heard.get(id) === true ? "online" : "offline"}${arming}`;
      }),
    );
    const until = household?.snoozedUntil();
    return [
      `Picket hub ${device}`,
      cameras.length === 0 ? "No camera reports to this hub yet." : `Cameras:\n${cameras.join("\n")}`,
      `Alerts: ${until === undefined ? "on" : `snoozed until ${when(until)}`}`,
      `Paired chats: ${paired.ids().length}`,
      `Last alert: ${lastAlert === undefined ? "none since the bot started" : `${lastAlert.device}, ${when(lastAlert.at)}${lastAlert.test ? " (test)" : ""}`}`,
    ].join("\n");
  };

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
      `Paired chats: ${paired.ids().length}`,
      `Last alert: ${lastAlert === undefined ? "none since the bot started" : `${when(lastAlert.at)}${lastAlert.test ? " (test)" : ""}`}`,
    ].join("\n");
  };
  let consumer: AlertConsumer | undefined;
  let outbox: ChatOutbox | undefined;
  let delivery: AlertDelivery | undefined;
  let delivered = 0;

  /**
   * Queues the alert for every paired chat before its first await: chats see alerts in event
   * order. (A snoozed alert waits first, to see whether it is a redelivery some chats have; on a
   * hub, the camera's own snooze is read first, at most SNOOZE_READ_MS, and a device's alerts
   * still come in its order, as its reads are answered in turn.)
   */
  const handle = async (event: PresenceEvent, signal: AbortSignal): Promise<AlertDecision> => {
    if (event.state !== "started" || delivery === undefined) return { ack: true };
    // An alert already on its way to some chats finishes; a snooze holds back new ones.
    let snoozedUntil = event.test || delivery.isPending(event.id) ? undefined : household?.snoozedUntil();
    // On a hub, the camera's own snooze holds back its alerts too.
    if (!event.test && !delivery.isPending(event.id) && snoozedUntil === undefined) snoozedUntil = await deviceSnoozedUntil(event.device);
    if (snoozedUntil !== undefined) {
      // A redelivery (after a restart) of an alert some chats already have finishes too.
      const had = await delivery.alertMessages(event.id);
      if (had instanceof Map && had.size > 0) snoozedUntil = undefined;
    }
    if (snoozedUntil !== undefined) {
      alerts.inc({ result: "snoozed" });
      log.info({ eventId: event.id, snoozedUntil }, "alert not sent: snoozed");
      await delivery.snoozed(event.id);
      return { ack: true };
    }
    const chats = paired.ids();
    if (chats.length === 0) {
      alerts.inc({ result: "no-chats" });
      log.warn({ eventId: event.id }, "alert not sent: no chat is paired");
      return { ack: true };
    }
    try {
      const silent = silentNow();
      const out = await delivery.deliver(event, chats, signal, { silent });
      if (out.sentTo.length === 0 && out.gaveUp.length === 0) {
        log.info({ eventId: event.id }, "alert redelivered but every chat has it; acked without sending");
        return { ack: true };
      }
      delivered++;
      lastAlert = event;
      // A redelivery after a restart counts from the event too: that alert was that late.
      if (out.sentTo.length > 0) alertLatency.observe(Math.max(0, Date.now() - event.at) / 1000);
      alerts.inc({ result: out.gaveUp.length > 0 ? "partial" : "delivered" });
      log.info({ eventId: event.id, test: event.test, chats: out.sentTo, already: out.already, gaveUp: out.gaveUp, photo: out.photo, silent, ageMs: Date.now() - event.at }, "alert delivered");
      return { ack: true };
    } catch (err) {
      if (err instanceof JobDropped) return { ack: false, delayMs: 0 };
      throw err;
    }
  };

  return {
    async start(): Promise<void> {
      if (deps.telegramToken === undefined) {
        log.info("bot off: PICKET_TELEGRAM_TOKEN is not set");
        return;
      }
      if (deps.settings !== undefined) household = await openHousehold(deps.settings, device, log);
      if (deps.settings !== undefined) notifications = await openNotifications(deps.settings, log, deps.timeZone);
      if (deps.settings !== undefined) {
        const store = await openPairedChats(deps.settings, log);
        const seeded = await store.seed(deps.chats);
        if (seeded.added.length + seeded.removed.length > 0) log.info(seeded, "paired chats from PICKET_TELEGRAM_CHATS updated");
        store.onChange((c) => log.info({ chat: c.chatId, paired: c.chat !== undefined }, c.chat === undefined ? "chat unpaired" : "chat paired"));
        pairedStore = store;
        paired = store;
      }
      if (paired.ids().length === 0) log.warn("no chat is paired: alerts go nowhere until one is (npm run bot -- pair, then /start CODE to the bot)");
      const queues = new ChatOutbox({ log: log.child({ module: "outbox" }) });
      outbox = queues;
      const tg = createTelegramBot({
        token: deps.telegramToken,
        apiRoot: deps.apiRoot,
        chats: paired,
        ...(pairedStore === undefined ? {} : { pairing: pairedStore }),
        device,
        ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }),
        uploadTimeoutMs: deps.uploadTimeoutMs,
        log: deps.log,
        metrics: deps.metrics,
        ports: commandPorts,
        ...(deps.liveUrl === undefined ? {} : { liveUrl: deps.liveUrl }),
        ...(household === undefined ? {} : { household }),
        status: deps.fleet === true ? fleetStatusText : statusText,
        outbox: queues,
        ...(deps.fleet === true ? { fleet: true, fleetArming } : {}),
        ...(deps.webhookUrl === undefined || deps.webhookSecret === undefined ? {} : { webhook: { url: deps.webhookUrl, secret: deps.webhookSecret, port: deps.webhookPort ?? 8443 } }),
        onFatal: deps.onFatal,
      });
      delivery = new AlertDelivery({
        ports: {
          photo: eventPhoto,
          sendPhoto: (chat, jpeg, caption, signal, silent, of) => tg.sendPhoto(chat, jpeg, caption, signal, tg.alertButtons(of), { silent }),
          sendText: (chat, text, signal, silent) => tg.sendText(chat, text, signal, undefined, undefined, { silent }),
        },
        outbox: queues,
        record: kvDeliveryLog(deps.botState, log),
        isPaired: (chat) => paired.has(chat),
        log,
        ...(deps.timeZone === undefined ? {} : { timeZone: deps.timeZone }),
      });
      // A hub's bot takes every device's alarms (devices that report to a hub run no bot of their own).
      const scope = deps.fleet === true ? "fleet" : "device";
      consumer = createAlertConsumer({ nc, device, log: deps.log, metrics: deps.metrics, kind: "presence", scope, schema: PresenceEvent, handle, concurrency: ALERT_CONCURRENCY });
      await consumer.prepare();
      if (deps.storedMedia !== undefined) {
        clips = createAlertConsumer({ nc, device, log: deps.log, metrics: deps.metrics, kind: "media", scope, schema: MediaEvent, handle: sendClip, concurrency: ALERT_CONCURRENCY });
        await clips.prepare();
      }
      if (deps.fleet === true) {
        statuses = createAlertConsumer({ nc, device, log: deps.log, metrics: deps.metrics, kind: "device", scope: "fleet", schema: DeviceStatusEvent, handle: sendStatus });
        await statuses.prepare();
      }
      telegram = tg;
      heartbeats = nc.subscribe(subjects.heartbeatsAll(), {
        callback: (_err, m) => {
          const from = parseSubject(m.subject);
          if (from !== undefined) directory.heard(from.device, Date.now());
        },
      });
      const { username } = await tg.start();
      await consumer.start();
      await clips?.start();
      await statuses?.start();
      log.info({ username, apiRoot: new URL(deps.apiRoot).origin, chats: paired.ids().length }, telegram.state === "webhook" ? "bot taking updates by webhook; alerts on" : "bot polling for updates; alerts on");
    },
    async stop(): Promise<void> {
      // No more events taken, then the sends in progress cancelled: their events go back to the stream.
      await consumer?.close();
      await clips?.close();
      await statuses?.close();
      outbox?.stop();
      heartbeats?.unsubscribe();
      await telegram?.stop();
      await consumer?.stop();
      await clips?.stop();
      await statuses?.stop();
      household?.stop();
      notifications?.stop();
      pairedStore?.stop();
    },
    health() {
      const polling = telegram?.state ?? "off";
      const ok = link.connected && (deps.telegramToken === undefined || polling === "polling" || polling === "webhook");
      return { ok, nats: link.connected, telegram: polling, alertsInFlight: delivery?.pending ?? 0, queuedSends: outbox?.pending() ?? 0 };
    },
    vitals(): Record<string, number> {
      return { polling: telegram?.state === "polling" || telegram?.state === "webhook" ? 1 : 0, alertsDelivered: delivered, alertsInFlight: delivery?.pending ?? 0, queuedSends: outbox?.pending() ?? 0 };
    },
  };
}
