import { ClipReply, ClipRequest } from "@picket/contracts";
import { MediaTooLargeError, createLogger, createMetrics } from "@picket/runtime";
import { FakeTimers } from "@picket/runtime/testing";
import { describe, expect, it } from "vitest";
import { frame, ms } from "../../../test/support/encoded-frames.js";
import { createClipResponder, newClipId, type ClipRequestPorts } from "./clip-requests.js";
import type { Clip } from "./event-media.js";
import { ClipRecorder } from "./media/clip-recorder.js";
import { FrameRing, frameRingMs } from "./media/frame-ring.js";

const log = createLogger({ service: "camera", device: "test", level: "silent" });
const clip: Clip = { mp4: new Uint8Array(1234), durationMs: 4_000, firstFrameAt: 1_750_000_000_000 };

/** A request's recording, settled by the test. */
interface Recording {
  id: string;
  atMs: number;
  lastMs: number;
  resolve: (c: Clip | undefined) => void;
  reject: (err: unknown) => void;
}

function setup(over: Partial<ClipRequestPorts> = {}) {
  const recordings: Recording[] = [];
  const stored: { name: string; bytes: number; contentType: string }[] = [];
  const holds: [string, number][] = [];
  const ports: ClipRequestPorts = {
    recordLast: (id, atMs, lastMs) => new Promise((resolve, reject) => recordings.push({ id, atMs, lastMs, resolve, reject })),
    put: async (name, data, contentType) => {
      stored.push({ name, bytes: data.length, contentType });
      return { bytes: data.length };
    },
    hold: (holder, ms) => holds.push([holder, ms]),
    lastFrameAgeMs: () => undefined,
    wallNowMs: () => 1_750_000_004_000,
    ...over,
  };
  let n = 0;
  const responder = createClipResponder({ log, metrics: createMetrics("camera", "test"), ports, newId: () => `id-${++n}` });
  return { responder, recordings, stored, holds };
}

const req = (seconds: number): ClipRequest => ClipRequest.parse({ seconds });
/** Lets the responder's awaits run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("clip requests", () => {
  it("records the last seconds, stores the MP4 under its request name and says where, holding the camera meanwhile", async () => {
    const { responder, recordings, stored, holds } = setup();
    const reply = responder.answer(req(4));
    expect(recordings).toMatchObject([{ id: "id-1", atMs: 1_750_000_004_000, lastMs: 4_000 }]);
    expect(holds).toEqual([["clip-id-1", 14_000]]);
    recordings[0]?.resolve(clip);
    const answer = await reply;
    expect(ClipReply.parse(answer)).toEqual({ ok: true, object: "clips/request-id-1.mp4", bytes: 1234, durationMs: 4_000, at: 1_750_000_000_000 });
    expect(stored).toEqual([{ name: "clips/request-id-1.mp4", bytes: 1234, contentType: "video/mp4" }]);
    // Released once recorded.
    expect(holds.at(-1)).toEqual(["clip-id-1", 0]);
    expect(responder.active).toBe(0);
  });

  it("defaults to 10 s", async () => {
    const { responder, recordings } = setup();
    void responder.answer(ClipRequest.parse({}));
    expect(recordings[0]?.lastMs).toBe(10_000);
  });

  it("answers two at once and tells a third the camera is busy, and takes requests again when one is answered", async () => {
    const { responder, recordings } = setup();
    const a = responder.answer(req(10));
    const b = responder.answer(req(10));
    await expect(responder.answer(req(10))).resolves.toEqual({ ok: false, error: expect.stringMatching(/^busy: 2 clips are being made/) });
    expect(recordings).toHaveLength(2);
    recordings[0]?.resolve(clip);
    await expect(a).resolves.toMatchObject({ ok: true });
    expect(responder.active).toBe(1);
    const c = responder.answer(req(5));
    expect(recordings).toHaveLength(3);
    recordings[1]?.resolve(clip);
    recordings[2]?.resolve(clip);
    await expect(b).resolves.toMatchObject({ ok: true });
    await expect(c).resolves.toMatchObject({ ok: true, object: "clips/request-id-3.mp4" });
  });

  it("says clearly when the camera gave no video, and releases the camera", async () => {
    const { responder, recordings, stored, holds } = setup({ lastFrameAgeMs: () => 42_300 });
    const reply = responder.answer(req(4));
    recordings[0]?.resolve(undefined);
    await expect(reply).resolves.toEqual({ ok: false, error: "the camera gave no video (its last frame is 42 s old): its encoder is not running or its source is gone" });
    expect(stored).toEqual([]);
    expect(holds.at(-1)).toEqual(["clip-id-1", 0]);
  });

  it("says why when the clip cannot be made or stored", async () => {
    const tooLarge = setup({ put: () => Promise.reject(new MediaTooLargeError("clips/request-id-1.mp4", 20_000_000, 16_000_000)) });
    const big = tooLarge.responder.answer(req(60));
    tooLarge.recordings[0]?.resolve(clip);
    await expect(big).resolves.toEqual({ ok: false, error: "the clip (20000000 bytes) is larger than the whole media store; ask for fewer seconds" });

    const failing = setup();
    const reply = failing.responder.answer(req(4));
    failing.recordings[0]?.reject(new Error("ffmpeg exited with 1"));
    await expect(reply).resolves.toEqual({ ok: false, error: "could not make the clip: ffmpeg exited with 1" });
    expect(failing.responder.active).toBe(0);
  });

  it("on stop, waits for the clips being made and refuses new requests", async () => {
    const { responder, recordings } = setup();
    const reply = responder.answer(req(4));
    const stopped = responder.stop();
    await expect(responder.answer(req(4))).resolves.toEqual({ ok: false, error: "the camera is stopping" });
    recordings[0]?.resolve(clip);
    await stopped;
    await expect(reply).resolves.toMatchObject({ ok: true });
  });

  it("with the real recorder and a dead camera, answers no video by the asked seconds plus the recorder's stall time", async () => {
    const timers = new FakeTimers();
    const wall = ms(300);
    const recorder = new ClipRecorder({ ring: new FrameRing({ maxDurationMs: frameRingMs(5_000, 2_000) }), fps: 25, stallMs: 5_000, timers, wallNowMs: () => wall, remux: async (f) => Buffer.from(`mp4 of ${f.length}`) });
    // The camera ran until 10 s before the request, then died.
    for (let i = 0; i < 50; i++) recorder.push(frame(i));
    const { responder } = setup({ recordLast: (id, at, lastMs) => recorder.record(id, at, { lastMs }), lastFrameAgeMs: () => 10_000, wallNowMs: () => wall });
    let answer: ClipReply | undefined;
    void responder.answer(req(10)).then((a) => (answer = a));
    timers.advance(14_999);
    await settle();
    expect(answer).toBeUndefined();
    timers.advance(1);
    await settle();
    expect(answer).toEqual({ ok: false, error: expect.stringMatching(/^the camera gave no video \(its last frame is 10 s old\)/) });
  });

  it("with the real recorder, a camera that runs gives a clip of exactly the asked length", async () => {
    const timers = new FakeTimers();
    let wall = ms(0);
    const recorder = new ClipRecorder({ ring: new FrameRing({ maxDurationMs: frameRingMs(5_000, 2_000) }), fps: 25, timers, wallNowMs: () => wall, remux: async (f) => Buffer.from(`mp4 of ${f.length}`) });
    const { responder } = setup({ recordLast: (id, at, lastMs) => recorder.record(id, at, { lastMs }), wallNowMs: () => wall });
    for (let i = 0; i <= 300; i++) recorder.push(frame(i));
    wall = ms(300);
    const reply = responder.answer(req(10));
    for (let i = 301; i < 600; i++) recorder.push(frame(i));
    await expect(reply).resolves.toMatchObject({ ok: true, durationMs: 10_000 });
  });

  it("makes ids that sort by time and are valid object names", () => {
    const id = newClipId(1_750_000_000_000);
    expect(id).toMatch(/^[a-z0-9]+-[0-9a-f]{8}$/);
    expect(newClipId(1_750_000_000_000)).not.toBe(id);
  });
});
