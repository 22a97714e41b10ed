import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { replicasFor } from "./jetstream.js";

const on = (info: { cluster?: string; connect_urls?: string[] } | undefined) => ({ info }) as unknown as NatsConnection;

describe("replicasFor", () => {
  it("keeps three copies on a cluster of three servers or more, one on a lone server", () => {
    expect(replicasFor(on({ cluster: "picket-hub", connect_urls: ["a:4222", "b:4222", "c:4222"] }))).toBe(3);
    expect(replicasFor(on({ cluster: "picket-hub", connect_urls: ["a:4222", "b:4222", "c:4222", "d:4222", "e:4222"] }))).toBe(3);
    // A device, a one-machine hub, a cluster still forming or hiding its servers: one.
    expect(replicasFor(on({}))).toBe(1);
    expect(replicasFor(on({ cluster: "picket-hub", connect_urls: ["a:4222", "b:4222"] }))).toBe(1);
    expect(replicasFor(on({ cluster: "picket-hub" }))).toBe(1);
    expect(replicasFor(on(undefined))).toBe(1);
  });
});
