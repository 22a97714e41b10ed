import { isDecodeError } from "@picket/contracts";
import { describe, expect, it } from "vitest";
import { decodeEventRecord } from "./event-reader.js";

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const started = { id: "ev-00000001", kind: "presence", state: "started", device: "pi", at: 1, triggers: ["pir"], test: false };

describe("events stream records", () => {
  it("are decoded by the kind their subject names", () => {
    expect(decodeEventRecord("picket.pi.events.presence", json(started))).toEqual(started);
    const device = { id: "ev-00000009", kind: "device", device: "pi", state: "offline", previous: "online", reason: "no heartbeat for 8 s", at: 2 };
    expect(decodeEventRecord("picket.pi.events.device", json(device))).toEqual(device);
  });

  it("of kinds the bridge does not show are skipped", () => {
    expect(decodeEventRecord("picket.pi.events.armed", json({ anything: true }))).toBeUndefined();
    expect(decodeEventRecord("picket.pi.events.toString", json({}))).toBeUndefined();
  });

  it("that are malformed, or of another device than their subject's, throw a reason", () => {
    const decodeError = (subject: string, data: Uint8Array) => {
      try {
        decodeEventRecord(subject, data);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(isDecodeError(decodeError("picket.pi.events.presence", new TextEncoder().encode("{not json")))).toBe(true);
    expect(isDecodeError(decodeError("picket.pi.events.presence", json({ ...started, state: "maybe" })))).toBe(true);
    expect(String(decodeError("picket.other.events.presence", json(started)))).toMatch(/record of device "pi" on another device's subject/);
  });
});
