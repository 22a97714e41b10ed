import { FakeTimers } from "@picket/runtime/testing";
import { describe, expect, it } from "vitest";
import { frame, ms } from "../../../../test/support/encoded-frames.js";
import type { EncodedFrame } from "../capture.js";
import { ClipRecorder, type ClipRecorderOptions, type RecordedClip } from "./clip-recorder.js";
import { FrameRing, frameRingMs } from "./frame-ring.js";


function setup(opts: Partial<ClipRecorderOptions> = {}) {
  const timers = new FakeTimers();
  const remuxed: EncodedFrame[][] = [];
  const clips: RecordedClip[] = [];
  let wall = ms(0);
  const rec = new ClipRecorder({
    ring: new FrameRing({ maxDurationMs: frameRingMs(5_000, 2_000) }),
    fps: 25,
    timers,
    wallNowMs: () => wall,
    remux: async (frames) => {
      remuxed.push(frames);
      return Buffer.from(`mp4 of ${frames.length}`);
    },
    onClip: (c) => clips.push(c),
    ...opts,
  });
  /** Pushes frames [from, to) with the timers and wall clock following them. */
  const play = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      if (i > from) timers.advance(40);
      wall = ms(i);
      rec.push(frame(i));
    }
  };
  return { rec, timers, remuxed, clips, play, setWall: (w: number) => (wall = w) };
}

describe("ClipRecorder", () => {
  it("takes the pre-roll from the ring from the keyframe before it, and live frames up to the post-roll", async () => {
    const { rec, play, remuxed, clips, timers } = setup();
    play(0, 301);
    const clip = rec.record("evt-00000001", ms(300));
    play(301, 600);
    // Pre-roll from frame 175 (7.0 s): keyframe 150; post-roll to frame 550.
    await expect(clip).resolves.toMatchObject({ eventId: "evt-00000001", ended: "post-roll", frames: 401, durationMs: 16_040, firstFrameAt: ms(150) });
    expect(remuxed[0]?.[0]?.ptsUs).toBe(150 * 40_000);
    expect(remuxed[0]?.at(-1)?.ptsUs).toBe(550 * 40_000);
    expect(clips).toHaveLength(1);
    expect(rec.active).toBe(0);
    expect(timers.pending).toBe(0);
  });

  it("with the camera off at the trigger, starts at its first keyframe", async () => {
    const { rec, play, timers, setWall } = setup();
    setWall(ms(300));
    const clip = rec.record("evt-00000002", ms(300));
    timers.advance(2_000);
    // The camera starts mid-GOP, 2 s after the trigger.
    play(330, 600);
    await expect(clip).resolves.toMatchObject({ ended: "post-roll", firstFrameAt: ms(350), frames: 201 });
  });

  it("finishes with what exists when the camera dies mid-recording", async () => {
    const { rec, play, timers } = setup({ stallMs: 5_000 });
    play(0, 301);
    const clip = rec.record("evt-00000003", ms(300));
    play(301, 400);
    timers.advance(4_999);
    expect(rec.active).toBe(1);
    timers.advance(1);
    await expect(clip).resolves.toMatchObject({ ended: "stalled", frames: 250 });
  });

  it("resolves undefined when the camera gives no video by the post-roll plus the stall time", async () => {
    const { rec, timers, setWall } = setup();
    setWall(ms(300));
    const clip = rec.record("evt-00000004", ms(300));
    timers.advance(14_999);
    expect(rec.active).toBe(1);
    timers.advance(1);
    await expect(clip).resolves.toBeUndefined();
  });

  it("ends a recording at a capture gap (the camera restarted) rather than splice two runs", async () => {
    const { rec, play, timers } = setup();
    play(0, 301);
    const clip = rec.record("evt-00000005", ms(300));
    play(301, 320);
    timers.advance(3_500);
    rec.push(frame(420));
    await expect(clip).resolves.toMatchObject({ ended: "gap", frames: 170 });
  });

  it("when the camera stopped shortly before the trigger and comes back, records the new run instead of the stale pre-roll", async () => {
    const { rec, play, timers, setWall } = setup({ stallMs: 5_000 });
    play(0, 200);
    setWall(ms(260));
    const clip = rec.record("evt-00000009", ms(260));
    // No frames for 6 s (longer than the stall time): nothing past the trigger, so it waits.
    timers.advance(6_000);
    expect(rec.active).toBe(1);
    play(350, 600);
    await expect(clip).resolves.toMatchObject({ ended: "post-roll", firstFrameAt: ms(350), frames: 161 });
  });

  it("ends with the pre-roll it has at the deadline when the camera never comes back", async () => {
    const { rec, play, timers, setWall } = setup();
    play(0, 200);
    setWall(ms(260));
    const clip = rec.record("evt-0000000d", ms(260));
    timers.advance(14_999);
    expect(rec.active).toBe(1);
    timers.advance(1);
    await expect(clip).resolves.toMatchObject({ ended: "deadline", firstFrameAt: ms(100), frames: 100 });
  });

  it("shares one recording per event, refuses more than maxRecordings, and ends a clip at maxClipBytes", async () => {
    const { rec, play } = setup({ maxRecordings: 2, maxClipBytes: 200_000 });
    play(0, 301);
    const a = rec.record("evt-0000000a", ms(300));
    expect(rec.record("evt-0000000a", ms(300))).toBe(a);
    const b = rec.record("evt-0000000b", ms(300));
    await expect(rec.record("evt-0000000c", ms(300))).rejects.toThrow(/2 clips are being recorded/);
    play(301, 600);
    await expect(a).resolves.toMatchObject({ ended: "size", frames: 200 });
    await expect(b).resolves.toMatchObject({ ended: "size", frames: 200 });
  });

  it("on stop, finishes pending recordings early with what they have and refuses new ones", async () => {
    const { rec, play, timers } = setup();
    play(0, 301);
    const clip = rec.record("evt-00000006", ms(300));
    play(301, 350);
    await rec.stop();
    await expect(clip).resolves.toMatchObject({ ended: "stopped", frames: 200 });
    expect(timers.pending).toBe(0);
    await expect(rec.record("evt-00000007", ms(350))).rejects.toThrow(/stopped/);
  });

  describe("the last seconds (a clip on request)", () => {
    it("takes them from the ring from the first keyframe at or after their start, exactly their length", async () => {
      const { rec, play, remuxed } = setup();
      play(0, 301);
      // 4 s before frame 300 is frame 200, a keyframe: frames 200…299 are 4.0 s; nothing to wait for.
      const clip = rec.record("request-1", ms(300), { lastMs: 4_000 });
      await expect(clip).resolves.toMatchObject({ ended: "post-roll", frames: 100, durationMs: 4_000, firstFrameAt: ms(200) });
      expect(remuxed[0]?.[0]?.key).toBe(true);
    });

    it("starts at the next keyframe when their start is mid-GOP, and records live frames to the full length", async () => {
      const { rec, play, remuxed } = setup();
      play(0, 311);
      // 3 s before frame 310 is frame 235: the clip starts at keyframe 250 and runs to frame 324.
      const clip = rec.record("request-2", ms(310), { lastMs: 3_000 });
      expect(rec.active).toBe(1);
      play(311, 400);
      await expect(clip).resolves.toMatchObject({ ended: "post-roll", frames: 75, durationMs: 3_000, firstFrameAt: ms(250) });
      expect(remuxed[0]?.at(-1)?.ptsUs).toBe(324 * 40_000);
    });

    it("when the ring holds less, starts at its first keyframe and records on until the length is covered", async () => {
      const { rec, play } = setup();
      // The ring keeps about 8 s (200 frames); 20 s are asked for.
      play(0, 401);
      const clip = rec.record("request-3", ms(400), { lastMs: 20_000 });
      play(401, 800);
      const made = await clip;
      expect(made).toMatchObject({ ended: "post-roll", frames: 500, durationMs: 20_000 });
      expect(made?.firstFrameAt).toBeGreaterThanOrEqual(ms(200));
    });

    it("with the camera off at the request, starts at its first keyframe and covers the length", async () => {
      const { rec, play, timers, setWall } = setup();
      setWall(ms(300));
      const clip = rec.record("request-4", ms(300), { lastMs: 10_000 });
      timers.advance(2_000);
      play(340, 700);
      await expect(clip).resolves.toMatchObject({ ended: "post-roll", frames: 250, durationMs: 10_000, firstFrameAt: ms(350) });
    });

    it("resolves undefined when the camera gives no video by the length plus the stall time", async () => {
      const { rec, timers, setWall } = setup({ stallMs: 5_000 });
      setWall(ms(300));
      const clip = rec.record("request-5", ms(300), { lastMs: 4_000 });
      timers.advance(8_999);
      expect(rec.active).toBe(1);
      timers.advance(1);
      await expect(clip).resolves.toBeUndefined();
    });
  });

  it("passes a remux failure on to the caller", async () => {
    const { rec, play } = setup({ remux: () => Promise.reject(new Error("ffmpeg exited with 1")) });
    play(0, 301);
    const clip = rec.record("evt-00000008", ms(290));
    play(301, 600);
    await expect(clip).rejects.toThrow(/ffmpeg exited/);
  });
});
