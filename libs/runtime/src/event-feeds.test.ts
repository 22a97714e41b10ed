import { EVENTS_STREAM } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { deviceFeed, fedDevices, withFeeds, withoutFeed } from "./event-feeds.js";

const t0 = Date.UTC(2026, 10, 25, 8, 0, 0);

describe("a hub's feeds from its devices' events", () => {
  it("reads a device's own events stream through its JetStream domain, delivered in its own name outside its events", () => {
    expect(deviceFeed("door", t0)).toEqual({
      name: EVENTS_STREAM,
      filter_subject: "picket.door.events.>",
      opt_start_time: "2026-11-25T08:00:00.000Z",
      external: { api: "$JS.door.API", deliver: "picket.door.hub-feed" },
    });
  });

  it("adds a feed only for the devices that lack one, keeping the others as they were", () => {
    const kept = [deviceFeed("door", t0 - 1_000), { name: "OTHER", external: { api: "$JS.x.API" } }];
    const next = withFeeds(kept, ["shed", "door", "gate", "shed"], t0);
    expect(next?.slice(0, 2)).toEqual(kept);
    expect(next?.slice(2)).toEqual([deviceFeed("gate", t0), deviceFeed("shed", t0)]);
    expect(fedDevices(next)).toEqual(new Set(["door", "gate", "shed"]));
  });

  it("changes nothing when every device is fed", () => {
    expect(withFeeds([deviceFeed("door", t0)], ["door"], t0 + 5_000)).toBeUndefined();
    expect(withFeeds(undefined, [], t0)).toBeUndefined();
    expect(fedDevices(undefined)).toEqual(new Set());
  });
});

describe("a device removed from the hub", () => {
  it("loses only its own feed", () => {
    const kept = [deviceFeed("door", t0), deviceFeed("shed", t0), { name: "OTHER", external: { api: "$JS.door.API" } }];
    expect(withoutFeed(kept, "door")).toEqual([deviceFeed("shed", t0), { name: "OTHER", external: { api: "$JS.door.API" } }]);
    expect(withoutFeed(kept, "gate")).toBeUndefined();
    expect(withoutFeed(undefined, "gate")).toBeUndefined();
  });
});
