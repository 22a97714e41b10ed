import { MediaEvent, PresenceEvent, mediaNames, settingsKeys, subjects, type NotificationSettings } from "@picket/contracts";
import { jetstream, openMediaStore, openSettings, type KV, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { jpegHead } from "../services/bot/src/testing.js";
import { ALLOWED, TOKEN, ok, startBotStack, type Cleanups } from "./support/bot.js";
import type { ServiceProcess } from "./support/services.js";
import type { ApiCall, TelegramApiDouble } from "./support/telegram-api.js";

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Alert n happened at T0 + n s: its caption shows `09:00:0n`, so each photo names its alert. */
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const JPEG = jpegHead(1280, 720);
const MP4 = Buffer.from("an event's clip: the API double takes any bytes as a video");

const silentCall = (c: ApiCall) => String(c.params.disable_notification) === "true";
const withSound = (c: ApiCall) => c.params.disable_notification === undefined;
const hhmm = (minutes: number) => {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
};
const nowMinutesUtc = () => {
  const d = new Date();
  return d.getUTCHours() * 60 + d.getUTCMinutes();
};

interface Harness {
  nc: NatsConnection;
  kv: KV;
  device: string;
  double: TelegramApiDouble;
  bot: ServiceProcess;
}

/** Stores the event's photo as the camera would, then the presence event itself. */
async function raiseAlert(h: Harness, n: number): Promise<string> {
  const id = `notify-alert-${String(n).padStart(2, "0")}`;
  const media = await openMediaStore(h.nc, { maxBytes: 50_000_000, maxAgeMs: 3_600_000 });
  await media.put(mediaNames.snapshot(id), JPEG, { contentType: "image/jpeg" });
  const event: PresenceEvent = { id, kind: "presence", state: "started", device: h.device, at: T0 + n * 1000, triggers: ["pir"], test: false, media: { snapshot: mediaNames.snapshot(id), clip: mediaNames.clip(id) } };
  const delivered = h.bot.logs.filter((l) => l.msg === "alert delivered").length;
  await jetstream(h.nc).publish(subjects.event(h.device, "presence"), JSON.stringify(PresenceEvent.parse(event)));
  await h.bot.waitForLog((l) => l.msg === "alert delivered" && l.eventId === id && h.bot.logs.filter((m) => m.msg === "alert delivered").length > delivered, 20_000, `alert ${id}`);
  return id;
}

/** Stores the event's clip and says so on the events stream, as the camera does. */
async function storeClip(h: Harness, eventId: string): Promise<void> {
  const media = await openMediaStore(h.nc, { maxBytes: 50_000_000, maxAgeMs: 3_600_000 });
  await media.put(mediaNames.clip(eventId), MP4, { contentType: "video/mp4" });
  const event: MediaEvent = { id: `clip-${eventId}`, kind: "media", device: h.device, eventId, media: "clip", object: mediaNames.clip(eventId), bytes: MP4.length, durationMs: 4_000, at: Date.now() };
  await jetstream(h.nc).publish(subjects.event(h.device, "media"), JSON.stringify(MediaEvent.parse(event)));
}

/** Stores the settings and waits until the bot says it applies them. */
async function setNotifications(h: Harness, value: NotificationSettings): Promise<void> {
  const seen = h.bot.logs.filter((l) => l.msg === "notification settings").length;
  await h.kv.put(settingsKeys.notifications(), JSON.stringify(value));
  await h.bot.waitForLog(
    (l) => l.msg === "notification settings" && h.bot.logs.filter((m) => m.msg === "notification settings").length > seen && l.clip === value.clip && l.silent === value.silent,
    10_000,
    "the bot to apply the notification settings",
  );
}

const photosOf = (double: TelegramApiDouble, n: number) => double.calls("sendPhoto").filter((c) => ok(c) && String(c.params.caption).includes(`09:00:0${n}`));
const videosReplyingTo = (double: TelegramApiDouble, photos: ApiCall[]) => {
  const ids = new Set(photos.map((p) => p.messageId));
  return double.calls("sendVideo").filter((c) => ok(c) && ids.has((JSON.parse(String(c.params.reply_parameters)) as { message_id: number }).message_id));
};

describe("the bot obeys the household's notification settings, live", () => {
  it("alerts with sound and a clip by default; silent: without sound; clip off: no clip; quiet hours: without sound inside them only", async () => {
    const { stack, double, nc, bot } = await startBotStack(cleanups, { token: TOKEN, services: ["bot"] });
    const h: Harness = { nc, kv: await openSettings(nc), device: stack.device, double, bot };

    // 1. Nothing stored: the photo with sound, then the clip (with sound) replying to it.
    const first = await raiseAlert(h, 1);
    const firstPhotos = photosOf(double, 1);
    expect(firstPhotos.map((c) => c.chatId).sort()).toEqual([...ALLOWED].sort());
    expect(firstPhotos.every(withSound)).toBe(true);
    await storeClip(h, first);
    await double.waitForCalls("sendVideo", 2, 20_000, ok);
    expect(videosReplyingTo(double, firstPhotos)).toHaveLength(2);
    expect(videosReplyingTo(double, firstPhotos).every(withSound)).toBe(true);

    // 2. Silent and no clips: the photo arrives without sound, and its clip is not sent.
    await setNotifications(h, { clip: false, silent: true, quietHours: null });
    const second = await raiseAlert(h, 2);
    expect(photosOf(double, 2)).toHaveLength(2);
    expect(photosOf(double, 2).every(silentCall)).toBe(true);
    await storeClip(h, second);
    await bot.waitForLog((l) => l.msg === "clip not sent: clips are off in the notification settings" && l.eventId === second, 20_000, "the clip to be skipped");
    expect(videosReplyingTo(double, photosOf(double, 2))).toEqual([]);
    expect(double.calls("sendVideo")).toHaveLength(2);

    // 3. Quiet hours around now (in the bot's PICKET_TZ, UTC here): photo and clip without sound.
    const now = nowMinutesUtc();
    await setNotifications(h, { clip: true, silent: false, quietHours: { from: hhmm(now - 60), to: hhmm(now + 60) } });
    const third = await raiseAlert(h, 3);
    expect(photosOf(double, 3).every(silentCall)).toBe(true);
    await storeClip(h, third);
    await double.waitForCalls("sendVideo", 4, 20_000, ok);
    expect(videosReplyingTo(double, photosOf(double, 3))).toHaveLength(2);
    expect(videosReplyingTo(double, photosOf(double, 3)).every(silentCall)).toBe(true);

    // 4. Quiet hours that are not now: with sound again.
    await setNotifications(h, { clip: true, silent: false, quietHours: { from: hhmm(now + 120), to: hhmm(now + 180) } });
    await raiseAlert(h, 4);
    expect(photosOf(double, 4)).toHaveLength(2);
    expect(photosOf(double, 4).every(withSound)).toBe(true);

    // 5. A value that is not the contract is refused; the last good one stays.
    await h.kv.put(settingsKeys.notifications(), JSON.stringify({ clip: "sometimes" }));
    await bot.waitForMsg("ignoring a bad setting; the last good value stays");
    await raiseAlert(h, 5);
    expect(photosOf(double, 5).every(withSound)).toBe(true);
    expect((await stack.stop()).bot?.code).toBe(0);
  });
});
