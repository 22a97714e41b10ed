import { rmSync } from "node:fs";
import { join } from "node:path";
import { MEDIA_BUCKET } from "@picket/contracts";
import { isMediaTooLarge, jetstreamManager, openMediaStore, type NatsConnection } from "@picket/runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EncodedFrame } from "../services/camera/src/capture.js";
import { NalType, nalType, parseSps, splitAnnexB } from "../services/camera/src/h264.js";
import { ClipRecorder, type RecordedClip } from "../services/camera/src/media/clip-recorder.js";
import { FrameRing, frameRingMs } from "../services/camera/src/media/frame-ring.js";
import { testBus } from "./support/bus.js";
import { encodeTestVideo, splitAccessUnits } from "./support/h264-clip.js";
import { playInChromium, probeMp4, topLevelBoxes } from "./support/mp4.js";
import { startNats, type NatsServer } from "./support/nats.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const FPS = 25;
const GOP = 50;
const FRAME_US = 1_000_000 / FPS;
/** Wall clock of the first frame, µs. */
const T0_US = 1_750_000_000_000_000;

describe("event clips", () => {
  let frames: EncodedFrame[];

  beforeAll(async () => {
    const units = splitAccessUnits(await encodeTestVideo({ width: 1280, height: 720, fps: FPS, seconds: 20, gop: GOP }));
    const sps = splitAnnexB((units[0] as { data: Uint8Array }).data).find((n) => nalType(n) === NalType.sps) as Uint8Array;
    const { codec, width, height } = parseSps(sps);
    frames = units.map((u, i) => ({ data: u.data, key: u.key, ptsUs: i * FRAME_US, runPtsMs: i * 40, capturedUs: T0_US + i * FRAME_US, codec, width, height }));
    expect(frames).toHaveLength(500);
    expect(frames.filter((f) => f.key)).toHaveLength(10);
  });

  function recorder(clips: RecordedClip[] = []) {
    const ring = new FrameRing({ maxDurationMs: frameRingMs(5_000, (GOP * 1000) / FPS) });
    // Trigger times here are in 2025; the deadline timer must see the same wall clock.
    const rec = new ClipRecorder({ ring, fps: FPS, preRollMs: 5_000, postRollMs: 10_000, wallNowMs: () => T0_US / 1000 + 8_000, onClip: (c) => clips.push(c) });
    cleanups.push(() => rec.stop());
    return { ring, rec };
  }

  it("records 5 s before the trigger (from the keyframe before) to 10 s after, as a faststart MP4 of the exact covered time, without re-encoding", async () => {
    const clips: RecordedClip[] = [];
    const { ring, rec } = recorder(clips);
    for (const f of frames.slice(0, 201)) rec.push(f);
    // The ring keeps pre-roll + one GOP + margin, not everything.
    expect(ring.length).toBeLessThanOrEqual(8 * FPS + 1);
    const pending = rec.record("evt-clip-0001", T0_US / 1000 + 8_000);
    for (const f of frames.slice(201)) rec.push(f);
    const clip = await pending;

    // Pre-roll from 3.0 s: the keyframe at or before is at 2.0 s; post-roll to 18.0 s.
    expect(clip).toMatchObject({ eventId: "evt-clip-0001", ended: "post-roll", frames: 401, durationMs: 16_040, firstFrameAt: T0_US / 1000 + 2_000 });
    expect(clips).toEqual([clip]);
    const mp4 = clip?.mp4 as Buffer;
    const probe = await probeMp4(mp4);
    expect(probe).toMatchObject({ codec: "h264", pixFmt: "yuv420p", width: 1280, height: 720, frames: 401 });
    expect(Math.abs(probe.durationS - 16.04)).toBeLessThan(1 / FPS);
    expect(probe.durationS).toBeGreaterThanOrEqual(15 - GOP / FPS);
    // Copied, not re-encoded: the samples hold the camera's bytes (roughly their total).
    const input = frames.slice(50, 451).reduce((n, f) => n + f.data.length, 0);
    expect(mp4.length).toBeGreaterThan(input * 0.95);
    expect(mp4.length).toBeLessThan(input * 1.05);
    const boxes = topLevelBoxes(mp4).map((b) => b.type);
    expect(boxes.indexOf("moov")).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
  });

  it("shares frames between overlapping recordings and finishes the pending one early on stop", async () => {
    const { rec } = recorder();
    for (const f of frames.slice(0, 201)) rec.push(f);
    const first = rec.record("evt-clip-0002", T0_US / 1000 + 8_000);
    for (const f of frames.slice(201, 251)) rec.push(f);
    const second = rec.record("evt-clip-0003", T0_US / 1000 + 10_000);
    expect(rec.record("evt-clip-0003", T0_US / 1000 + 10_000)).toBe(second);
    expect(rec.active).toBe(2);
    for (const f of frames.slice(251)) rec.push(f);
    await rec.stop();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ ended: "post-roll", frames: 401 });
    // From the keyframe at 4.0 s to the last frame there is (19.96 s): stopped before its 20 s.
    expect(b).toMatchObject({ ended: "stopped", frames: 400, durationMs: 16_000, firstFrameAt: T0_US / 1000 + 4_000 });
    expect((await probeMp4(b?.mp4 as Buffer)).durationS).toBeCloseTo(16, 1);
    await expect(rec.record("evt-clip-0004", T0_US / 1000 + 12_000)).rejects.toThrow(/stopped/);
  });

  it("plays in headless Chromium: the video loads, renders frames and lasts the covered time", async () => {
    const { rec } = recorder();
    for (const f of frames.slice(0, 201)) rec.push(f);
    const pending = rec.record("evt-clip-0005", T0_US / 1000 + 8_000);
    for (const f of frames.slice(201)) rec.push(f);
    const clip = (await pending) as RecordedClip;

    const result = await playInChromium(clip.mp4);
    expect(result.readyState).toBeGreaterThanOrEqual(2);
    expect(result).toMatchObject({ width: 1280, height: 720 });
    expect(Math.abs(result.duration - 16.04)).toBeLessThan(1 / FPS);
    expect(result.presented).toBeGreaterThanOrEqual(1);
    expect(result.advanced).toBeGreaterThan(0.2);
  });
});

describe("media store", () => {
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await testBus(nats.url);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });
  afterEach(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`OBJ_${MEDIA_BUCKET}`).catch(() => undefined);
  });

  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  /** Byte equality (a deep toEqual over 300 kB takes seconds). */
  const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

  it("stores and reads objects, and waitFor resolves when the object is stored (or undefined after its timeout)", async () => {
    const store = await openMediaStore(nc, { maxBytes: 8 * 1024 * 1024, maxAgeMs: 3_600_000 });
    const snap = bytes(300_000, 1);
    const waiting = store.waitFor("snapshots/evt-0001.jpg", 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await store.put("snapshots/evt-0001.jpg", snap, { contentType: "image/jpeg" })).toEqual({ bytes: 300_000, evicted: [] });
    expect(same(await waiting, snap)).toBe(true);
    expect(same(await store.get("snapshots/evt-0001.jpg"), snap)).toBe(true);
    expect(same(await store.waitFor("snapshots/evt-0001.jpg", 100), snap)).toBe(true);
    expect(await store.get("snapshots/none.jpg")).toBeUndefined();

    const started = Date.now();
    expect(await store.waitFor("clips/evt-0001.mp4", 300)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    const aborted = new AbortController();
    setTimeout(() => aborted.abort(), 100);
    expect(await store.waitFor("clips/evt-0001.mp4", 10_000, aborted.signal)).toBeUndefined();

    expect(await store.list()).toEqual([{ name: "snapshots/evt-0001.jpg", bytes: 300_000, mtime: expect.any(Date) }]);
    await store.delete("snapshots/evt-0001.jpg");
    expect(await store.get("snapshots/evt-0001.jpg")).toBeUndefined();
    expect(await store.usage()).toEqual({ bytes: 0, objects: 0 });
  });

  it("deletes the oldest objects to fit the quota, keeps the newest, and refuses an object bigger than the quota", async () => {
    const maxBytes = 1024 * 1024;
    const store = await openMediaStore(nc, { maxBytes, maxAgeMs: 3_600_000 });
    for (let i = 0; i < 8; i++) await store.put(`clips/evt-${i}.mp4`, bytes(300_000, i), { contentType: "video/mp4" });
    const names = (await store.list()).map((o) => o.name);
    expect(names).toEqual(["clips/evt-5.mp4", "clips/evt-6.mp4", "clips/evt-7.mp4"]);
    const usage = await store.usage();
    expect(usage.objects).toBe(3);
    expect(usage.bytes).toBeLessThanOrEqual(maxBytes);
    expect(same(await store.get("clips/evt-7.mp4"), bytes(300_000, 7))).toBe(true);

    const err = await store.put("clips/huge.mp4", bytes(maxBytes + 1, 0), { contentType: "video/mp4" }).catch((e: unknown) => e);
    expect(isMediaTooLarge(err)).toBe(true);
    expect(String(err)).toMatch(/clips\/huge\.mp4 \(1048577 bytes\) does not fit the media store's whole quota of 1048576 bytes/);
    // Refusing it deleted nothing.
    expect((await store.list()).map((o) => o.name)).toEqual(names);
  });

  it("brings an existing bucket to new limits, pruning first when the quota shrinks", async () => {
    const big = await openMediaStore(nc, { maxBytes: 4 * 1024 * 1024, maxAgeMs: 3_600_000 });
    for (let i = 0; i < 6; i++) await big.put(`snapshots/evt-${i}.jpg`, bytes(300_000, i), { contentType: "image/jpeg" });
    const small = await openMediaStore(nc, { maxBytes: 1024 * 1024, maxAgeMs: 60_000 });
    const info = await (await jetstreamManager(nc)).streams.info(`OBJ_${MEDIA_BUCKET}`);
    expect(info.config).toMatchObject({ max_bytes: 1024 * 1024, max_age: 60_000 * 1e6 });
    expect((await small.list()).map((o) => o.name)).toEqual(["snapshots/evt-3.jpg", "snapshots/evt-4.jpg", "snapshots/evt-5.jpg"]);
    // What is left is whole.
    expect(same(await small.get("snapshots/evt-3.jpg"), bytes(300_000, 3))).toBe(true);
  });

  it("makes the bucket again when NATS comes back with an empty store", async () => {
    const store = await openMediaStore(nc, { maxBytes: 4 * 1024 * 1024, maxAgeMs: 3_600_000 });
    await store.put("snapshots/before.jpg", bytes(1000, 1), { contentType: "image/jpeg" });
    await nats.stop();
    rmSync(join(nats.storeDir, "jetstream"), { recursive: true, force: true });
    await nats.start();
    // The client reconnects on its own.
    for (let i = 0; i < 100 && nc.isClosed() === false; i++) {
      try {
        await nc.flush();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(await store.get("snapshots/before.jpg")).toBeUndefined();
    expect(await store.list()).toEqual([]);
    expect(await store.put("snapshots/after.jpg", bytes(2000, 2), { contentType: "image/jpeg" })).toEqual({ bytes: 2000, evicted: [] });
    expect(same(await store.get("snapshots/after.jpg"), bytes(2000, 2))).toBe(true);
    const info = await (await jetstreamManager(nc)).streams.info(`OBJ_${MEDIA_BUCKET}`);
    expect(info.config).toMatchObject({ max_bytes: 4 * 1024 * 1024, max_age: 3_600_000 * 1e6 });
  });
});
