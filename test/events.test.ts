import { EVENTS_STREAM, MediaEvent, PresenceEvent, subjects } from "@picket/contracts";
import { jetstreamManager, openMediaReader, type NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { testBus } from "./support/bus.js";
import { playInChromium, probeMp4 } from "./support/mp4.js";
import { waitFor } from "./support/ports.js";
import { startStack, type Stack } from "./support/stack.js";
import { jpegDimensions, startTelegramApi } from "./support/telegram-api.js";

const TOKEN = "123456789:AAEventsTestTokenXyZ0123456789abcdefghi";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Every event of the device stored in JetStream, oldest first. */
async function stored(nc: NatsConnection, device: string): Promise<(PresenceEvent | MediaEvent)[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
  const out: (PresenceEvent | MediaEvent)[] = [];
  if (info === undefined || info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
    if (m === null) continue;
    if (m.subject === subjects.event(device, "presence")) out.push(PresenceEvent.parse(m.json()));
    if (m.subject === subjects.event(device, "media")) out.push(MediaEvent.parse(m.json()));
  }
  return out;
}

const PRE_S = 3;
const POST_S = 4;

describe("presence events with media, on the real camera", () => {
  it("the test scene's person raises one PIR+motion alarm for the visit; the camera stores the trigger frame and a clip with pre- and post-roll that plays in Chromium; the bot sends the trigger frame, then the clip as a reply", async () => {
    const api = await startTelegramApi(TOKEN);
    cleanups.push(() => api.close());
    const stack: Stack = await startStack({
      services: ["camera", "pir", "bot"],
      env: {
        PICKET_TEST_SCENE_PIR: "true",
        PICKET_PRESENCE_MODE: "auto",
        PICKET_PRESENCE_GAP_MS: "3000",
        PICKET_PRESENCE_COOLDOWN_MS: "0",
        PICKET_CLIP_PRE_S: String(PRE_S),
        PICKET_CLIP_POST_S: String(POST_S),
        PICKET_TELEGRAM_TOKEN: TOKEN,
        PICKET_TELEGRAM_API_ROOT: api.url,
        PICKET_TELEGRAM_CHATS: "4242",
      },
    });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    await stack.get("pir").waitForMsg("camera motion available: PIR confirmed by motion raises alarms", 15_000);

    // The scene's person walks in 8 s after the camera starts (so the clip has its pre-roll)
    // and is gone 6 s later; the presence ends 3 s after the PIR's hold.
    const events = await waitFor(
      "one visit with its snapshot and clip, then its end",
      async () => {
        const all = await stored(nc, stack.device);
        const clip = all.some((e) => e.kind === "media" && e.media === "clip");
        return clip && all.some((e) => e.kind === "presence" && e.state === "ended") ? all : undefined;
      },
      45_000,
      250,
    );
    const started = events.filter((e): e is PresenceEvent => e.kind === "presence" && e.state === "started");
    const media = events.filter((e): e is MediaEvent => e.kind === "media");
    // One visit is one presence: started, then ended after the gap.
    expect(events.filter((e): e is PresenceEvent => e.kind === "presence").map((e) => [e.state, [...e.triggers].sort()])).toEqual([
      ["started", ["motion", "pir"]],
      ["ended", ["motion", "pir"]],
    ]);
    expect(started[0]?.test).toBe(false);

    const visit = started[0] as PresenceEvent;
    const snapshot = media.find((m) => m.eventId === visit.id && m.media === "snapshot");
    const clip = media.find((m) => m.eventId === visit.id && m.media === "clip");
    expect(snapshot).toMatchObject({ object: visit.media?.snapshot });
    expect(clip).toMatchObject({ object: visit.media?.clip });
    // The trigger frame: captured at the trigger moment (stills come twice a second), not later.
    expect(Math.abs((snapshot?.at ?? 0) - visit.at)).toBeLessThanOrEqual(600);

    const reader = openMediaReader(nc);
    const jpeg = Buffer.from((await reader.get(visit.media?.snapshot as string)) as Uint8Array);
    expect(jpegDimensions(jpeg)).toEqual({ width: 1280, height: 720 });
    const mp4 = (await reader.get(visit.media?.clip as string)) as Uint8Array;
    expect((clip?.durationMs ?? 0) / 1000).toBeGreaterThanOrEqual(PRE_S + POST_S - 0.1);
    const probe = await probeMp4(mp4);
    expect(probe.durationS).toBeCloseTo((clip?.durationMs ?? 0) / 1000, 1);
    // It starts at or before the pre-roll and runs through the post-roll.
    expect(visit.at - (clip?.at ?? 0)).toBeGreaterThanOrEqual(PRE_S * 1000 - 100);
    const played = await playInChromium(mp4);
    expect(played).toMatchObject({ width: 1280, height: 720 });
    expect(played.duration).toBeGreaterThanOrEqual(PRE_S + POST_S - 0.1);
    expect(played.presented).toBeGreaterThanOrEqual(1);
    expect(played.advanced).toBeGreaterThan(0.2);

    // The bot's alert for that visit shows exactly the stored trigger frame.
    const photos = await api.waitForCalls("sendPhoto", 1, 20_000);
    const photo = photos.find((p) => p.files.photo?.equals(jpeg));
    expect(photo).toBeDefined();

    // Then the clip, as a video replying to that photo.
    const [video] = await api.waitForCalls("sendVideo", 1, 20_000, (c) => c.status === 200);
    expect(video?.chatId).toBe("4242");
    expect(Buffer.from(mp4).equals(video?.files.video as Buffer)).toBe(true);
    expect(JSON.parse(String(video?.params.reply_parameters))).toMatchObject({ message_id: photo?.messageId });
  });
});

describe("an always-on camera", () => {
  it("keeps running after an event's clip, whatever the on-demand grace would say", async () => {
    const stack: Stack = await startStack({ services: ["camera"], env: { PICKET_CAMERA_IDLE_S: "1", PICKET_CLIP_PRE_S: "1", PICKET_CLIP_POST_S: "1" } });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    const camera = stack.get("camera");
    const id = `ev-${Date.now().toString(36)}-always1`;
    const event: PresenceEvent = { id, kind: "presence", state: "started", device: stack.device, at: Date.now(), triggers: ["pir"], test: false, media: { snapshot: `snapshots/${id}.jpg`, clip: `clips/${id}.mp4` } };
    nc.publish(subjects.event(stack.device, "presence"), JSON.stringify(event));
    await camera.waitForMsg("event clip stored", 20_000);
    // The event's hold (post-roll + 5 s) and the 1 s grace have passed.
    await new Promise((r) => setTimeout(r, 7_500));
    let frames = 0;
    const sub = nc.subscribe(subjects.video(stack.device, "high"), { callback: () => frames++ });
    await new Promise((r) => setTimeout(r, 1_000));
    sub.unsubscribe();
    expect(frames).toBeGreaterThan(15);
    expect(camera.logs.some((l) => l.msg === "no one needs the camera; stopping it")).toBe(false);
  });
});

describe("the camera listening on the events stream", () => {
  it("never answers a publish there: a malformed event gets the stream's ack, and the camera counts it", async () => {
    const stack: Stack = await startStack({ services: ["camera"] });
    cleanups.push(() => stack.stop());
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    // Every answer to the publishes' reply subject is collected: only the stream may answer.
    const inbox = `_INBOX.events-test-${stack.device}`;
    const answers: string[] = [];
    nc.subscribe(inbox, { callback: (_e, m) => answers.push(m.string()) });
    for (let i = 0; i < 20; i++) nc.publish(subjects.event(stack.device, "presence"), `not an event ${i}`, { reply: inbox });
    await waitFor("20 stream acks", () => answers.length >= 20 || undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(answers).toHaveLength(20);
    for (const a of answers) expect(JSON.parse(a)).toMatchObject({ stream: EVENTS_STREAM });
    await stack.get("camera").waitForLog((l) => l.msg === "dropped malformed message" && stack.get("camera").logs.filter((m) => m.msg === l.msg).length === 20, 10_000, "20 dropped");
  });
});
