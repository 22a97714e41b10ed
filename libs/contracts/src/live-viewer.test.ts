import { describe, expect, it, vi } from "vitest";
import { Viewer, parseViewerMessage, startPinger, type CachedFrame, type ViewerSocket } from "./live-viewer.js";

class FakeSocket implements ViewerSocket {
  bufferedAmount = 0;
  readonly sent: number[] = [];
  send(data: Uint8Array | string): void {
    this.sent.push(typeof data === "string" ? -1 : (data[0] as number));
  }
}

const marks = { highBytes: 1000, lowBytes: 250 };
/** A frame whose first wire byte is its sequence number, so the fake socket can tell which it got. */
const frame = (seq: number, key = false): CachedFrame => ({ key, seq, wire: new Uint8Array([seq, 0, 0]) });

function setup() {
  const socket = new FakeSocket();
  return { socket, viewer: new Viewer(socket, marks) };
}

describe("Viewer", () => {
  it("skips a viewer whose acks fall a second behind, though its socket queue looks empty, and resumes at a keyframe once it catches up", () => {
    const socket = new FakeSocket();
    let t = 0;
    let counted = 0;
    const viewer = new Viewer(socket, marks, () => t, () => counted++);
    viewer.offer(frame(1, true));
    viewer.ack(1);
    // 40 ms a frame, acks stop coming after frame 5 (the kernel's buffers swallow the rest).
    for (let seq = 2; seq <= 40; seq++) {
      t += 40;
      viewer.offer(frame(seq, seq % 50 === 0));
      if (seq <= 5) viewer.ack(seq);
    }
    expect(socket.bufferedAmount).toBe(0);
    expect(viewer.skips).toBe(1);
    expect(counted).toBe(1);
    const lastSent = socket.sent.at(-1) as number;
    expect(lastSent).toBeLessThan(40);
    // It catches up: acks everything sent; frames resume at the next keyframe only.
    viewer.ack(lastSent);
    t += 40;
    expect(viewer.offer(frame(41))).toBe(false);
    t += 40;
    expect(viewer.offer(frame(42, true))).toBe(true);
    expect(viewer.offer(frame(43))).toBe(true);
  });

  it("reads a viewer's ack and ignores anything else", () => {
    expect(parseViewerMessage('{"type":"ack","seq":42}')).toEqual({ type: "ack", seq: 42 });
    expect(parseViewerMessage(new TextEncoder().encode('{"type":"ack","seq":7}'))).toEqual({ type: "ack", seq: 7 });
    for (const bad of ['{"type":"ack","seq":-1}', '{"type":"ack","seq":1.5}', '{"type":"hello"}', "nope", "x".repeat(300), 42, undefined]) expect(parseViewerMessage(bad)).toBeUndefined();
  });

  it("starts only at a keyframe", () => {
    const { socket, viewer } = setup();
    expect(viewer.offer(frame(1))).toBe(false);
    expect(viewer.offer(frame(2))).toBe(false);
    expect(viewer.offer(frame(3, true))).toBe(true);
    expect(viewer.offer(frame(4))).toBe(true);
    expect(socket.sent).toEqual([3, 4]);
    expect(viewer.sent).toBe(2);
  });

  it("start() replays a cached GOP so the first picture appears at once", () => {
    const { socket, viewer } = setup();
    viewer.start([frame(10, true), frame(11), frame(12)]);
    expect(socket.sent).toEqual([10, 11, 12]);
    viewer.offer(frame(13));
    expect(socket.sent).toEqual([10, 11, 12, 13]);
  });

  it("start() with a GOP that lacks its keyframe sends nothing until a keyframe", () => {
    const { socket, viewer } = setup();
    viewer.start([frame(11), frame(12)]);
    expect(socket.sent).toEqual([]);
    viewer.offer(frame(20, true));
    expect(socket.sent).toEqual([20]);
  });

  it("keeps sending up to the high mark", () => {
    const { socket, viewer } = setup();
    viewer.offer(frame(1, true));
    socket.bufferedAmount = marks.highBytes;
    expect(viewer.offer(frame(2))).toBe(true);
    expect(viewer.skips).toBe(0);
  });

  it("over the high mark skips to the next keyframe, counting one skip", () => {
    const { socket, viewer } = setup();
    viewer.offer(frame(1, true));
    socket.bufferedAmount = marks.highBytes + 1;
    expect(viewer.offer(frame(2))).toBe(false);
    socket.bufferedAmount = 0;
    // Drained, but the deltas that follow cannot be decoded without frame 2.
    expect(viewer.offer(frame(3))).toBe(false);
    expect(viewer.offer(frame(4))).toBe(false);
    expect(viewer.offer(frame(5, true))).toBe(true);
    expect(viewer.offer(frame(6))).toBe(true);
    expect(socket.sent).toEqual([1, 5, 6]);
    expect(viewer.skips).toBe(1);
  });

  it("resumes only below the low mark, at a keyframe", () => {
    const { socket, viewer } = setup();
    viewer.offer(frame(1, true));
    socket.bufferedAmount = 5000;
    viewer.offer(frame(2));
    socket.bufferedAmount = marks.lowBytes + 1;
    expect(viewer.offer(frame(3, true))).toBe(false);
    socket.bufferedAmount = marks.lowBytes;
    expect(viewer.offer(frame(4))).toBe(false);
    expect(viewer.offer(frame(5, true))).toBe(true);
    expect(socket.sent).toEqual([1, 5]);
    expect(viewer.skips).toBe(1);
  });

  it("counts each fall-behind once however long it lasts", () => {
    const { socket, viewer } = setup();
    viewer.offer(frame(1, true));
    socket.bufferedAmount = 5000;
    for (let i = 2; i < 50; i++) viewer.offer(frame(i, i % 10 === 0));
    expect(viewer.skips).toBe(1);
    socket.bufferedAmount = 0;
    viewer.offer(frame(50, true));
    socket.bufferedAmount = 5000;
    viewer.offer(frame(51));
    expect(viewer.skips).toBe(2);
  });

  it("after resync waits for a keyframe again", () => {
    const { socket, viewer } = setup();
    viewer.offer(frame(1, true));
    viewer.resync();
    expect(viewer.offer(frame(2))).toBe(false);
    expect(viewer.offer(frame(3, true))).toBe(true);
    expect(socket.sent).toEqual([1, 3]);
    expect(viewer.skips).toBe(0);
  });
});

describe("startPinger", () => {
  it("pings every socket and terminates one that did not answer the previous ping", () => {
    vi.useFakeTimers();
    try {
      const make = () => {
        const s = { pings: 0, terminated: false, pong: () => {}, ping() { this.pings++; }, terminate() { this.terminated = true; }, on(_e: "pong", fn: () => void) { s.pong = fn; } };
        return s;
      };
      const [answers, silent] = [make(), make()];
      const pinger = startPinger(() => [answers, silent], 1_000);
      pinger.track(answers);
      pinger.track(silent);
      vi.advanceTimersByTime(1_000);
      expect([answers.pings, silent.pings]).toEqual([1, 1]);
      answers.pong();
      vi.advanceTimersByTime(1_000);
      expect(answers.terminated).toBe(false);
      expect(silent.terminated).toBe(true);
      pinger.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
