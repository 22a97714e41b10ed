import { TIMESCALE } from "@picket/contracts/fmp4";
import { readFragments } from "@picket/contracts/testing";
import { describe, expect, it } from "vitest";
import { HlsPackager, type HlsSegment } from "./hls-packager.js";
import { syntheticVideo } from "./testing/synthetic-video.js";

const FIRST = 1000;
const packager = () => new HlsPackager({ firstMsn: FIRST });
const feed = (p: HlsPackager, video: ReturnType<typeof syntheticVideo>, frames: number) => {
  for (let i = 0; i < frames; i++) p.push(video.next());
};
const complete = (p: HlsPackager) => p.segments.filter((s) => s.complete);
/** Frame numbers in a segment, read back from its bytes (the synthetic pictures carry them). */
const frameNumbers = (seg: HlsSegment) =>
  readFragments(seg.bytes as Uint8Array).flatMap((f) => f.samples.map((s) => ((s.data[6] as number) << 8) | (s.data[7] as number)));

describe("HlsPackager", () => {
  it("starts a segment at each keyframe and cuts parts of at most the part target", () => {
    const p = packager();
    const video = syntheticVideo({ fps: 25, gop: 50 });
    feed(p, video, 101); // two GOPs and the keyframe that ends the second
    const segs = complete(p);
    expect(segs.map((s) => s.msn)).toEqual([FIRST, FIRST + 1]);
    for (const seg of segs) {
      expect(seg.parts.map((x) => x.durationS)).toEqual([0.48, 0.48, 0.48, 0.48, 0.08]);
      expect(seg.parts.map((x) => x.independent)).toEqual([true, false, false, false, false]);
      expect(seg.durationS).toBeCloseTo(2, 6);
    }
    expect(frameNumbers(segs[1] as HlsSegment)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    expect(p.targetDurationS).toBe(2);
    expect(p.nextPart).toEqual({ msn: FIRST + 2, index: 0 });
  });

  it("is ready for players once three segments are complete", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    feed(p, video, 101);
    expect(p.ready).toBe(false);
    feed(p, video, 50);
    expect(p.ready).toBe(true);
  });

  it("writes fragments on one timeline: each part starts where the previous one ended, only keyframes are sync samples", () => {
    const p = packager();
    feed(p, syntheticVideo(), 101);
    const frags = complete(p).flatMap((s) => s.parts.flatMap((part) => readFragments(part.bytes)));
    let end = 0;
    for (const f of frags) {
      expect(f.baseDecodeTime).toBe(end);
      end += f.samples.reduce((n, s) => n + s.duration, 0);
    }
    expect(end).toBe(4 * TIMESCALE);
    expect(frags.map((f) => f.sequence)).toEqual(frags.map((_, i) => i + 1));
    const sync = frags.flatMap((f) => f.samples.map((s) => s.sync));
    expect(sync.flatMap((s, i) => (s ? [i] : []))).toEqual([0, 50]);
  });

  it("ignores frames until the first keyframe", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    video.skip(30);
    feed(p, video, 20);
    expect(p.segments).toEqual([]);
    expect(p.init).toBeUndefined();
    feed(p, video, 51);
    expect(complete(p).map((s) => frameNumbers(s)[0])).toEqual([50]);
  });

  it("keeps the newest six complete segments", () => {
    const p = packager();
    feed(p, syntheticVideo({ gop: 25 }), 25 * 9 + 1);
    expect(complete(p).map((s) => s.msn)).toEqual([3, 4, 5, 6, 7, 8].map((i) => FIRST + i));
    expect(p.segment(FIRST + 2)).toBeUndefined();
  });

  it("ends the segment at a lost frame and goes on at the next keyframe, without a hole in the timeline", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    feed(p, video, 60);
    video.skip(1); // frame 60 lost
    feed(p, video, 39); // 61..99: undecodable without 60, dropped
    expect(complete(p).map((s) => frameNumbers(s))).toEqual([Array.from({ length: 50 }, (_, i) => i), Array.from({ length: 10 }, (_, i) => 50 + i)]);
    feed(p, video, 51); // 100..150
    const [, cut, next] = complete(p);
    expect(frameNumbers(next as HlsSegment)[0]).toBe(100);
    const cutFrags = readFragments((cut as HlsSegment).bytes as Uint8Array);
    const cutEnd = (cutFrags[0]?.baseDecodeTime ?? 0) + cutFrags.flatMap((f) => f.samples).reduce((n, s) => n + s.duration, 0);
    expect(readFragments((next as HlsSegment).bytes as Uint8Array)[0]?.baseDecodeTime).toBe(cutEnd);
    expect(cut?.durationS).toBeCloseTo(0.4, 6);
  });

  it("keeps the timeline going when the PTS jumps back (an encoder restart)", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    feed(p, video, 70);
    video.shiftPts(-10_000_000);
    feed(p, video, 31);
    const frags = complete(p).flatMap((s) => readFragments(s.bytes as Uint8Array));
    const durations = frags.flatMap((f) => f.samples.map((s) => s.duration));
    expect(new Set(durations)).toEqual(new Set([3600]));
  });

  it("interrupt() publishes the frames held so far and waits for a keyframe", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    feed(p, video, 55);
    p.interrupt();
    expect(complete(p).map((s) => frameNumbers(s).length)).toEqual([50, 5]);
    feed(p, video, 10); // 55..64: no keyframe yet
    expect(p.segments.length).toBe(2);
  });

  it("starts over with a new init segment when the decoder configuration changes", () => {
    const p = packager();
    feed(p, syntheticVideo({ gop: 50 }), 101);
    const init = p.init;
    const changes: unknown[] = [];
    p.onChange((part) => changes.push(part));
    const bigger = syntheticVideo({ gop: 50, width: 1920, height: 1080, sps: Uint8Array.from([0x67, 0x64, 0x00, 0x28, 0xac]) });
    bigger.skip(150); // a new encoder, after a few lost frames
    feed(p, bigger, 51);
    expect(p.initVersion).toBe(1);
    expect(p.discontinuitySequence).toBe(1);
    expect(p.init).not.toEqual(init);
    expect(complete(p).map((s) => s.msn)).toEqual([FIRST + 3]);
    expect(changes).toContain(undefined);
  });

  it("tells what a blocking request waits for: a part, a whole segment, or anything later", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50 });
    feed(p, video, 64); // segment FIRST done; FIRST+1 has one part (50..61), 62..63 open
    expect(p.reached(FIRST)).toBe(true);
    expect(p.reached(FIRST + 1, 0)).toBe(true);
    expect(p.reached(FIRST + 1, 1)).toBe(false);
    expect(p.reached(FIRST + 1)).toBe(false);
    expect(p.reached(FIRST + 2, 0)).toBe(false);
    expect(p.partAvailability(FIRST + 1, 0)).toBe("ready");
    expect(p.partAvailability(FIRST + 1, 1)).toBe("later");
    expect(p.partAvailability(FIRST + 2, 0)).toBe("later");
    expect(p.partAvailability(FIRST + 3, 0)).toBe("never");
    expect(p.partAvailability(FIRST, 5)).toBe("never"); // that segment ended with five parts
    expect(p.segmentAvailability(FIRST)).toBe("ready");
    expect(p.segmentAvailability(FIRST + 1)).toBe("later");
    expect(p.segmentAvailability(FIRST - 1)).toBe("never");
    expect(p.nextPart).toEqual({ msn: FIRST + 1, index: 1 });
  });

  it("tells listeners of each part once it is published, with the capture time of its last frame", () => {
    const p = packager();
    const video = syntheticVideo({ gop: 50, startUs: 0 });
    const heard: [number, number][] = [];
    p.onChange((part) => {
      if (part !== undefined) heard.push([part.index, part.lastCapturedUs]);
    });
    feed(p, video, 51);
    expect(heard).toEqual([[0, 440_000], [1, 920_000], [2, 1_400_000], [3, 1_880_000], [4, 1_960_000]]);
  });
});
