import { PresenceEvent, subjects } from "@picket/contracts";
import { openMediaReader, type NatsConnection } from "@picket/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN, expectNoSecret, ok, pulse, startBotStack, type BotStack, type Cleanups } from "./support/bot.js";
import { ffprobe } from "./support/media.js";
import { probeMp4 } from "./support/mp4.js";
import { waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { READY } from "./support/stack.js";
import { jpegDimensions, updates, type ApiCall, type TelegramApiDouble } from "./support/telegram-api.js";

/**
 * What a household member sees in Telegram when they use the commands: /clip, the alert's
 * buttons, /events, /devices and /snapshot with several cameras. Real nats-server, camera
 * (ffmpeg test source), pir and bot processes; Telegram is the Bot API double.
 *
 * Each describe shares one stack; each test looks only at the calls made after it began
 * (`since`), so the tests do not depend on their order.
 */

type Button = { text: string; callback_data?: string; url?: string };

const PUBLIC_URL = "https://cam.example.org/";
/** The private chat paired by PICKET_TELEGRAM_CHATS (the other one is the group -222). */
const CHAT = 111;
const GROUP = -222;
const STRANGER = 999;

/** `2026-11-24 09:00:01 UTC`, as the bot shows a moment with PICKET_TZ=UTC. */
const utc = (at: number) => {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The calls of `method` (answered 200) that arrived after `mark` (a count of all calls), to `chat`, passing `filter`. */
function callsSince(double: TelegramApiDouble, mark: number, method: string, chat?: number, filter: (c: ApiCall) => boolean = () => true): ApiCall[] {
  return double
    .calls()
    .slice(mark)
    .filter((c) => c.method === method && ok(c) && (chat === undefined || c.chatId === String(chat)) && filter(c));
}

/** Waits for `n` such calls after `mark`. */
async function waitSince(double: TelegramApiDouble, mark: number, method: string, chat: number, n = 1, filter: (c: ApiCall) => boolean = () => true, timeoutMs = 20_000): Promise<ApiCall[]> {
  return waitFor(`${n} ${method} to ${chat}`, () => {
    const found = callsSince(double, mark, method, chat, filter);
    return found.length >= n ? found : undefined;
  }, timeoutMs);
}

/** Adds the bot's warnings to a failure, so a command that was never answered says why. */
async function orWhy<T>(bot: ServiceProcess, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (err) {
    const warnings = bot.logs.filter((l) => l.level === "warn" || l.level === "error").map((l) => `${l.msg}: ${String((l.err as { message?: string } | undefined)?.message ?? "")}`);
    throw new Error(`${(err as Error).message}\nbot warnings:\n${warnings.join("\n")}`);
  }
}

const text = (c: ApiCall | undefined) => String(c?.params.text ?? "");
const caption = (c: ApiCall | undefined) => String(c?.params.caption ?? "");

/** The inline keyboard of a sent message (a JSON string in a multipart upload, an object in a JSON body). */
function keyboard(c: ApiCall | undefined): Button[][] {
  const raw = c?.params.reply_markup;
  if (raw === undefined) return [];
  const markup = (typeof raw === "string" ? JSON.parse(raw) : raw) as { inline_keyboard?: Button[][] };
  return markup.inline_keyboard ?? [];
}

/** Videos made on request (`🎬 <device>, the last N s — …`), not an event's clip (`🎬 N s around the alert`). */
const requestedClip = (device: string) => (c: ApiCall) => caption(c).startsWith(`🎬 ${device}, the last `);

/** Clip requests the bot puts on the bus for `device`, as the camera receives them. */
function watchClipRequests(nc: NatsConnection, device: string): { seconds: number; requestedBy: string }[] {
  const seen: { seconds: number; requestedBy: string }[] = [];
  nc.subscribe(subjects.clipRequest(device), {
    callback: (_e, m) => {
      seen.push(m.json());
    },
  });
  return seen;
}

describe("bot commands with one camera (alerts carry a Live button)", () => {
  const cleanups: Cleanups = [];
  let s: BotStack;
  let device: string;
  let clipRequests: { seconds: number; requestedBy: string }[];

  beforeAll(async () => {
    s = await startBotStack(cleanups, { token: TOKEN, env: { PICKET_PUBLIC_URL: PUBLIC_URL } });
    device = s.stack.device;
    clipRequests = watchClipRequests(s.nc, device);
  });
  afterAll(async () => {
    const bot = s?.bot;
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    if (bot !== undefined) expectNoSecret(bot);
  });

  it("/clip 4 answers with a video of the last 4 s: a playable 1280x720 H.264 MP4 captioned with the camera; /clip 0 and /clip 99 explain 1 to 60 seconds", async () => {
    const { double } = s;
    const mark = double.calls().length;
    const asked = clipRequests.length;
    double.pushUpdate(updates.text(CHAT, "/clip 4"));
    const [video] = await waitSince(double, mark, "sendVideo", CHAT, 1, requestedClip(device), 30_000);

    expect(video?.encoding).toBe("multipart");
    expect(caption(video)).toMatch(new RegExp(`^🎬 ${escape(device)}, the last 4 s — \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`));
    expect(video?.params.duration).toBe("4");
    const mp4 = video?.files.video as Buffer;
    expect(mp4.subarray(4, 8).toString("latin1")).toBe("ftyp");
    const probe = await probeMp4(mp4);
    expect(probe).toMatchObject({ codec: "h264", width: 1280, height: 720 });
    expect(Math.abs(probe.durationS - 4)).toBeLessThanOrEqual(1.5);
    expect(probe.frames).toBeGreaterThan(0);
    expect(clipRequests.slice(asked)).toEqual([{ seconds: 4, requestedBy: "telegram" }]);

    // Out of range: a hint, no request to the camera and no video.
    const before = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/clip 0"));
    double.pushUpdate(updates.text(CHAT, "/clip 99"));
    const hints = await waitSince(double, before, "sendMessage", CHAT, 2);
    expect(hints.map(text)).toEqual(["A clip is 1 to 60 seconds long: /clip 10", "A clip is 1 to 60 seconds long: /clip 10"]);
    // A later command is answered after those two were handled: nothing else came of them.
    double.pushUpdate(updates.text(CHAT, "/devices"));
    await waitSince(double, before, "sendMessage", CHAT, 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(clipRequests.slice(asked)).toHaveLength(1);
    expect(callsSince(double, before, "sendVideo", CHAT, requestedClip(device))).toEqual([]);
    expect(callsSince(double, before, "sendMessage", CHAT)).toHaveLength(3);
  });

  it("an alert photo carries Live (the public URL), Clip, Snooze 1 h and Disarm; the Clip button answers that chat with a video", async () => {
    const { double, nc, stack } = s;
    const mark = double.calls().length;
    await pulse(nc, stack);
    const alerts = await waitSince(double, mark, "sendPhoto", GROUP, 1, (c) => caption(c).startsWith(`🚨 Someone is at ${device}`));
    const [alert] = alerts;
    expect(keyboard(alert)).toEqual([
      [
        { text: "📺 Live", url: PUBLIC_URL },
        { text: "🎬 Clip", callback_data: `clip:${device}` },
      ],
      [
        { text: "🔕 Snooze 1 h", callback_data: "snooze:3600" },
        { text: "⏸ Disarm", callback_data: "disarm" },
      ],
    ]);
    // The private chat got the same alert with the same buttons.
    const [mine] = await waitSince(double, mark, "sendPhoto", CHAT, 1, (c) => caption(c).startsWith(`🚨 Someone is at ${device}`));
    expect(keyboard(mine)).toEqual(keyboard(alert));

    // The group presses Clip: the press is answered, and the group (only) gets the camera's last 10 s.
    const pressed = double.calls().length;
    const clipButton = keyboard(alert)[0]?.find((b) => b.text === "🎬 Clip");
    double.pushUpdate(updates.callback(GROUP, clipButton?.callback_data as string, 4242));
    await double.waitForCalls("answerCallbackQuery", 1, 10_000, (c) => double.calls().indexOf(c) >= pressed);
    const [video] = await waitSince(double, pressed, "sendVideo", GROUP, 1, requestedClip(device), 40_000);
    expect(caption(video)).toMatch(new RegExp(`^🎬 ${escape(device)}, the last 10 s — `));
    const probe = await probeMp4(video?.files.video as Buffer);
    expect(probe).toMatchObject({ codec: "h264", width: 1280, height: 720 });
    expect(Math.abs(probe.durationS - 10)).toBeLessThanOrEqual(1.5);
    expect(callsSince(double, pressed, "sendVideo", CHAT, requestedClip(device))).toEqual([]);
  });

  it("/devices lists this camera as online", async () => {
    const { double } = s;
    const mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/devices"));
    const [answer] = await waitSince(double, mark, "sendMessage", CHAT, 1, (c) => text(c).startsWith("Cameras:"));
    expect(text(answer)).toBe(`Cameras:\n🟢 ${device} (this bot's) — online`);
  });

  it("a chat that is not paired gets one polite refusal for /clip and /snapshot, and no clip, photo or video", async () => {
    const { double, bot } = s;
    const mark = double.calls().length;
    const asked = clipRequests.length;
    double.pushUpdate(updates.text(STRANGER, "/clip 3"));
    double.pushUpdate(updates.text(STRANGER, "/snapshot"));
    double.pushUpdate(updates.callback(STRANGER, `clip:${device}`));
    // A paired chat's command behind them: once it is answered, the stranger's were handled.
    double.pushUpdate(updates.text(CHAT, "/devices"));
    await waitSince(double, mark, "sendMessage", CHAT, 1, (c) => text(c).startsWith("Cameras:"));
    const [refusal] = await waitSince(double, mark, "sendMessage", STRANGER, 1);
    expect(text(refusal)).toMatch(/private Picket bot.*pairing code.*\/start CODE.*id is 999/s);
    await bot.waitForLog((l) => l.msg === "ignored update from a chat that is not allowed" && l.chat === STRANGER);
    await new Promise((r) => setTimeout(r, 1_000));

    const toStranger = double.calls().slice(mark).filter((c) => c.chatId === String(STRANGER));
    expect(toStranger.map((c) => c.method)).toEqual(["sendMessage"]);
    expect(clipRequests.slice(asked)).toEqual([]);
    expect(callsSince(double, mark, "answerCallbackQuery")).toEqual([]);
  });
});

describe("bot commands with two cameras on one bus", () => {
  const cleanups: Cleanups = [];
  let s: BotStack;
  let device: string;
  let second: string;
  let camera2: ServiceProcess;

  beforeAll(async () => {
    s = await startBotStack(cleanups, { token: TOKEN });
    device = s.stack.device;
    second = `${device}-garage`;
    // A second, smaller camera on the same nats: its photos (640x360) tell them apart.
    camera2 = new ServiceProcess("camera", {
      ...baseEnv(s.stack.nats.url, second),
      PICKET_CAMERA_OPS_PORT: "0",
      PICKET_CAMERA_WIDTH: "640",
      PICKET_CAMERA_HEIGHT: "360",
      PICKET_CAMERA_FPS: "10",
      PICKET_MOTION_FPS: "0",
    });
    cleanups.push(() => camera2.stop());
    await camera2.waitForLog((l) => READY.camera.test(l.msg), 20_000, "second camera ready");
    // Two heartbeats seen here: the bot, on the same server, has heard at least the first.
    let beats = 0;
    const sub = s.nc.subscribe(subjects.heartbeat(second, "camera"), {
      callback: () => {
        beats++;
      },
    });
    await waitFor("two heartbeats of the second camera", () => beats >= 2 || undefined, 15_000);
    sub.unsubscribe();
  });
  afterAll(async () => {
    const bot = s?.bot;
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    if (bot !== undefined) expectNoSecret(bot);
  });

  it("/devices lists both cameras online; /snapshot asks which camera, and each button, /snapshot <name> and a wrong name answer as they should", async () => {
    const { double } = s;
    let mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/devices"));
    const [devices] = await waitSince(double, mark, "sendMessage", CHAT, 1, (c) => text(c).startsWith("Cameras:"));
    expect(text(devices)).toBe(`Cameras:\n🟢 ${device} (this bot's) — online\n🟢 ${second} — online`);

    // Without a name: a question with one button per camera, and no photo yet.
    mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/snapshot"));
    const [question] = await waitSince(double, mark, "sendMessage", CHAT, 1, (c) => text(c) === "Which camera?");
    expect(keyboard(question)).toEqual([[{ text: `📷 ${device}`, callback_data: `snap:${device}` }], [{ text: `📷 ${second}`, callback_data: `snap:${second}` }]]);
    expect(callsSince(double, mark, "sendPhoto", CHAT)).toEqual([]);

    // The second camera's button: a photo from it (its 640x360 picture), captioned with its name.
    mark = double.calls().length;
    double.pushUpdate(updates.callback(CHAT, keyboard(question)[1]?.[0]?.callback_data as string));
    const [pressed] = await waitSince(double, mark, "sendPhoto", CHAT);
    expect(caption(pressed)).toMatch(new RegExp(`^pong — ${escape(second)} \\d{4}-`));
    expect(await ffprobe(pressed?.files.photo as Buffer)).toEqual({ codec_name: "mjpeg", width: 640, height: 360 });
    expect(callsSince(double, mark, "answerCallbackQuery")).toHaveLength(1);

    // By name.
    mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, `/snapshot ${second}`));
    const [named] = await waitSince(double, mark, "sendPhoto", CHAT);
    expect(caption(named)).toMatch(new RegExp(`^pong — ${escape(second)} `));
    expect(jpegDimensions(named?.files.photo as Buffer)).toEqual({ width: 640, height: 360 });

    // This bot's own camera by name, in the group.
    mark = double.calls().length;
    double.pushUpdate(updates.text(GROUP, `/snapshot ${device}`));
    const [own] = await waitSince(double, mark, "sendPhoto", GROUP);
    expect(caption(own)).toMatch(new RegExp(`^pong — ${escape(device)} `));
    expect(jpegDimensions(own?.files.photo as Buffer)).toEqual({ width: 1280, height: 720 });

    // A name no camera has: the known ones are named, and no photo comes.
    mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/snapshot nosuch"));
    const [wrong] = await waitSince(double, mark, "sendMessage", CHAT);
    expect(text(wrong)).toBe(`No camera called "nosuch". Cameras: ${device}, ${second}.`);
    double.pushUpdate(updates.text(CHAT, "/devices"));
    await waitSince(double, mark, "sendMessage", CHAT, 2);
    expect(callsSince(double, mark, "sendPhoto")).toEqual([]);
  });

  it("/events says there are no alerts yet; after two alerts it lists both and sends their photos as one album captioned with their times", async () => {
    const { double, nc, stack, bot } = s;
    let mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/events"));
    const [none] = await orWhy(bot, waitSince(double, mark, "sendMessage", CHAT));
    expect(text(none)).toBe(`No alerts from ${device} in the last 7 days.`);

    // Two real alerts: PIR pulses, their events recorded by the pir service, their photos stored by the camera.
    const started: PresenceEvent[] = [];
    const sub = nc.subscribe(subjects.event(device, "presence"), {
      callback: (_e, m) => {
        const e = PresenceEvent.parse(m.json());
        if (e.state === "started") started.push(e);
      },
    });
    mark = double.calls().length;
    await pulse(nc, stack);
    await waitSince(double, mark, "sendPhoto", CHAT, 1, (c) => caption(c).startsWith("🚨"));
    await pulse(nc, stack);
    const alerts = await waitSince(double, mark, "sendPhoto", CHAT, 2, (c) => caption(c).startsWith("🚨"));
    sub.unsubscribe();
    expect(started).toHaveLength(2);
    const media = openMediaReader(nc);
    for (const e of started) expect(await media.waitFor(e.media?.snapshot as string, 15_000)).toBeDefined();
    const times = started.map((e) => utc(e.at));
    expect(times[0]).not.toBe(times[1]);
    // The times the alert photos showed.
    expect(alerts.map((c) => caption(c).split("\n")[1])).toEqual(times);

    mark = double.calls().length;
    double.pushUpdate(updates.text(CHAT, "/events"));
    const [list] = await orWhy(bot, waitSince(double, mark, "sendMessage", CHAT));
    expect(text(list)).toBe([`The last 2 alerts from ${device}:`, ...times.map((t) => `${t} — pir`)].join("\n"));
    const [album] = await waitSince(double, mark, "sendMediaGroup", CHAT);
    const items = JSON.parse(String(album?.params.media)) as { type: string; media: string; caption?: string }[];
    expect(items.map((i) => i.type)).toEqual(["photo", "photo"]);
    expect(items.map((i) => i.caption)).toEqual(times.map((t) => `${t} — pir`));
    for (const item of items) {
      const jpeg = album?.files[item.media.replace(/^attach:\/\//, "")] as Buffer;
      expect(await ffprobe(jpeg)).toEqual({ codec_name: "mjpeg", width: 1280, height: 720 });
    }
    expect(album?.messageIds).toHaveLength(2);
    // The list came first, then the album; nothing went to the other chats for it.
    expect(double.calls().indexOf(list as ApiCall)).toBeLessThan(double.calls().indexOf(album as ApiCall));
    expect(double.calls().slice(mark).filter((c) => c.chatId !== undefined && c.chatId !== String(CHAT) && !caption(c).startsWith("🎬"))).toEqual([]);
  });
});
