import { describe, expect, it } from "vitest";
import { RecentMedia } from "./event-media.js";

const bytes = (n: number) => new Uint8Array(n);

describe("RecentMedia", () => {
  it("keeps what was read for a while, then reads again", () => {
    const r = new RecentMedia(100, 60_000);
    r.put("clips/a.mp4", bytes(10), 0);
    expect(r.get("clips/a.mp4", 59_000)?.length).toBe(10);
    expect(r.get("clips/a.mp4", 61_000)).toBeUndefined();
  });

  it("stays within its byte budget, dropping the oldest, and never keeps one larger than it", () => {
    const r = new RecentMedia(100, 60_000);
    r.put("a", bytes(40), 0);
    r.put("b", bytes(40), 0);
    r.put("c", bytes(40), 0);
    expect(r.get("a", 1)).toBeUndefined();
    expect(r.get("b", 1)?.length).toBe(40);
    expect(r.get("c", 1)?.length).toBe(40);
    r.put("huge", bytes(101), 0);
    expect(r.get("huge", 1)).toBeUndefined();
    r.forget("b");
    expect(r.get("b", 1)).toBeUndefined();
  });
});
