import { describe, expect, it } from "vitest";
import { SendPacer } from "./send-pacer.js";

describe("SendPacer", () => {
  it("spaces sends to one private chat a second apart, and lets another chat go at once", () => {
    const p = new SendPacer();
    expect([p.reserve(1, 0), p.reserve(1, 0), p.reserve(1, 0)]).toEqual([0, 1_000, 2_000]);
    expect(p.reserve(2, 0)).toBe(0);
    // Idle long enough: no wait.
    expect(p.reserve(1, 10_000)).toBe(10_000);
  });

  it("sends at most 20 messages a minute to a group, an album counting each item", () => {
    const p = new SendPacer();
    const times = Array.from({ length: 21 }, () => p.reserve(-5, 0));
    expect(times.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1_000));
    // The 21st waits until the first has left the minute.
    expect(times[20]).toBe(60_000);
    const q = new SendPacer();
    expect(q.reserve(-5, 0, 10)).toBe(0);
    expect(q.reserve(-5, 0, 10)).toBe(1_000);
    expect(q.reserve(-5, 0, 1)).toBe(60_000);
  });

  it("keeps to 30 sends a second over all chats", () => {
    const p = new SendPacer();
    const times = Array.from({ length: 31 }, (_, chat) => p.reserve(chat + 1, 0));
    expect(times.slice(0, 30).every((t) => t === 0)).toBe(true);
    expect(times[30]).toBe(1_000);
  });

  it("after a 429 sends nothing to that chat until retry_after has passed", () => {
    const p = new SendPacer();
    p.reserve(1, 0);
    p.pause(1, 7_000);
    expect(p.reserve(1, 1_500)).toBe(7_000);
    expect(p.reserve(2, 1_500)).toBe(1_500);
  });
});
