import { describe, expect, it } from "vitest";
import { PresenceEvent } from "@picket/contracts";
import { newEventId } from "./event-id.js";

describe("newEventId", () => {
  it("is a valid event id that sorts by time", () => {
    const a = newEventId(1_700_000_000_000, () => 0.5);
    const b = newEventId(1_700_000_000_001, () => 0);
    expect(a).toBe("ev-loyw3v28-iiiiiiii");
    expect(a < b).toBe(true);
    const event = { id: a, kind: "presence", state: "started", device: "pi", at: 1, triggers: ["pir"], test: false };
    expect(PresenceEvent.safeParse(event).success).toBe(true);
  });
});
