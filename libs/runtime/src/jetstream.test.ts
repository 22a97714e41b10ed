import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { replicasFor, setReplicas } from "./jetstream.js";

const conn = () => ({ info: { cluster: "picket-hub", connect_urls: ["a:4222", "b:4222", "c:4222"] } }) as unknown as NatsConnection;

describe("replicasFor", () => {
  it("is what PICKET_JS_REPLICAS set for the connection, one when unset, whatever servers the connection was told of", () => {
    const hub = conn();
    expect(replicasFor(hub)).toBe(1);
    setReplicas(hub, 3);
    expect(replicasFor(hub)).toBe(3);
    expect(replicasFor(conn())).toBe(1);
  });

  it("refuses a count JetStream does not take", () => {
    expect(() => setReplicas(conn(), 0)).toThrow(/1 to 5 copies/);
    expect(() => setReplicas(conn(), 7)).toThrow(/1 to 5 copies/);
    expect(() => setReplicas(conn(), Number.NaN)).toThrow(/1 to 5 copies/);
  });
});
