import { describe, expect, it } from "vitest";
import { FrozenPicture, SourceHealth } from "./source-health.js";

function clocked() {
  let now = 1_000_000;
  const health = new SourceHealth(() => now);
  return { health, advance: (ms: number) => (now += ms) };
}

describe("SourceHealth", () => {
  it("a stuck encoder restarted while live says `restarted` once the picture is back, with how long it was gone", () => {
    const { health, advance } = clocked();
    health.started();
    expect(health.picture()).toBeUndefined();
    advance(40);
    health.picture();
    advance(3_000);
    expect(health.failed("no frame for 3 s (the encoder stalled)")).toBeUndefined();
    expect(health.state).toBe("recovering");
    advance(1_200);
    expect(health.picture()).toEqual({ state: "restarted", reason: "no frame for 3 s (the encoder stalled)", downMs: 4_200 });
    expect(health.state).toBe("live");
    expect(health.picture()).toBeUndefined();
  });

  it("a restart that brings nothing back is `lost`, said once however often the retries fail; then `back`", () => {
    const { health, advance } = clocked();
    health.started();
    health.picture();
    health.failed("the encoder exited (code 1)");
    advance(500);
    expect(health.failed("the encoder exited (code 1): No such device")).toEqual({ state: "lost", reason: "the encoder exited (code 1): No such device" });
    for (let i = 0; i < 5; i++) expect(health.failed("the encoder exited (code 1)")).toBeUndefined();
    advance(9_500);
    expect(health.picture()).toEqual({ state: "back", reason: "the encoder exited (code 1): No such device", downMs: 10_000 });
  });

  it("a source visibly gone is `lost` at once, and a camera with no picture from the start is `lost`", () => {
    const gone = clocked().health;
    gone.started();
    gone.picture();
    expect(gone.failed("the source file /v/door.mp4 is missing", true)).toEqual({ state: "lost", reason: "the source file /v/door.mp4 is missing" });
    const never = clocked().health;
    never.started();
    expect(never.failed("no picture within 15 s of starting")).toMatchObject({ state: "lost" });
  });

  it("says nothing about a capture stopped on purpose", () => {
    const { health } = clocked();
    health.started();
    health.picture();
    health.stopped();
    expect(health.failed("the encoder exited (SIGTERM)")).toBeUndefined();
    expect(health.picture()).toBeUndefined();
    expect(health.state).toBe("off");
  });
});

describe("FrozenPicture", () => {
  const a = Buffer.from([1, 2, 3]);
  const b = Buffer.from([1, 2, 4]);

  it("reports a picture bit-identical for the threshold once, and a change after it", () => {
    const f = new FrozenPicture(3_000);
    expect(f.push(a, 0)).toBe("same");
    expect(f.push(b, 500)).toBe("changed");
    expect(f.push(Buffer.from(b), 1_000)).toBe("same");
    expect(f.push(Buffer.from(b), 3_000)).toBe("same");
    expect(f.push(Buffer.from(b), 3_500)).toBe("frozen");
    expect(f.push(Buffer.from(b), 4_000)).toBe("same");
    expect(f.push(a, 4_500)).toBe("changed");
  });

  it("compares a new run's first still with nothing, and never reports with a threshold of 0", () => {
    const f = new FrozenPicture(1_000);
    f.push(a, 0);
    f.reset();
    expect(f.push(a, 5_000)).toBe("same");
    const off = new FrozenPicture(0);
    off.push(a, 0);
    expect(off.push(a, 60_000)).toBe("same");
  });
});
