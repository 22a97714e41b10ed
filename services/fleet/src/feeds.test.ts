import { createLogger } from "@picket/runtime";
import { describe, expect, it } from "vitest";
import { FEED_REFRESH_MS, FEED_RETRY_MS, FeedKeeper, type Feed } from "./feeds.js";

const log = createLogger({ service: "fleet", device: "hub", level: "silent" });

/** A stream's feeds as the server keeps them: calls recorded, failures on demand. */
function server() {
  const fed = new Set<string>();
  const calls: string[][] = [];
  let failing = false;
  const feed: Feed = async (devices) => {
    calls.push([...devices]);
    if (failing) throw new Error("no responders");
    const added = devices.filter((d) => !fed.has(d));
    for (const d of added) fed.add(d);
    return { fed: new Set(fed), added };
  };
  return { feed, calls, fed, fail: (v: boolean) => (failing = v) };
}

describe("FeedKeeper", () => {
  it("feeds a newly heard device at the next check, and asks nothing more while every device is fed", async () => {
    const s = server();
    const keeper = new FeedKeeper(s.feed, log);
    await keeper.tick(["door"], 0);
    expect(s.calls).toEqual([["door"]]);
    expect(keeper.tick(["door"], 500)).toBeUndefined();
    await keeper.tick(["door", "shed"], 1_000);
    expect(s.calls.at(-1)).toEqual(["door", "shed"]);
    expect([...keeper.devices()].sort()).toEqual(["door", "shed"]);
  });

  it("reads the feeds again after FEED_REFRESH_MS (another replica may have changed them)", async () => {
    const s = server();
    const keeper = new FeedKeeper(s.feed, log);
    await keeper.tick(["door"], 0);
    expect(keeper.tick(["door"], FEED_REFRESH_MS - 1)).toBeUndefined();
    await keeper.tick(["door"], FEED_REFRESH_MS);
    expect(s.calls).toHaveLength(2);
  });

  it("after a failure, tries again after FEED_RETRY_MS, not at every check", async () => {
    const s = server();
    const keeper = new FeedKeeper(s.feed, log);
    s.fail(true);
    await keeper.tick(["door"], 0);
    expect(keeper.tick(["door"], 500)).toBeUndefined();
    expect(keeper.tick(["door"], FEED_RETRY_MS - 1)).toBeUndefined();
    s.fail(false);
    await keeper.tick(["door"], FEED_RETRY_MS);
    expect(s.calls).toHaveLength(2);
    expect(keeper.devices().has("door")).toBe(true);
  });

  it("makes one attempt at a time", async () => {
    const s = server();
    const keeper = new FeedKeeper(s.feed, log);
    const first = keeper.tick(["door"], 0);
    expect(keeper.tick(["door", "shed"], 1)).toBeUndefined();
    await first;
    expect(s.calls).toEqual([["door"]]);
  });
});
