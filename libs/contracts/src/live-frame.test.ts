import { describe, expect, it } from "vitest";
import { LIVE_HEADER_BYTES, decodeLiveFrame, encodeLiveFrame } from "./live-frame.js";

const header = { key: true, seq: 123_456, ptsUs: 40_000.5, capturedUs: 1_700_000_000_123_456, relayedUs: 1_700_000_000_130_000 };
const au = new Uint8Array([0, 0, 0, 1, 0x65, 0x88, 0x84]);

describe("live frames", () => {
  it("round-trip header fields and payload", () => {
    const wire = encodeLiveFrame(header, au);
    expect(wire.length).toBe(LIVE_HEADER_BYTES + au.length);
    expect(decodeLiveFrame(wire)).toEqual({ ...header, data: au });
    expect(decodeLiveFrame(encodeLiveFrame({ ...header, key: false }, au)).key).toBe(false);
  });

  it("decode from an ArrayBuffer and from a view into a larger buffer", () => {
    const wire = encodeLiveFrame(header, au);
    expect(decodeLiveFrame(wire.slice().buffer).data).toEqual(au);
    const bigger = new Uint8Array(wire.length + 10);
    bigger.set(wire, 5);
    expect(decodeLiveFrame(bigger.subarray(5, 5 + wire.length))).toEqual({ ...header, data: au });
  });

  it("carry an empty payload", () => {
    expect(decodeLiveFrame(encodeLiveFrame(header, new Uint8Array(0))).data.length).toBe(0);
  });

  it("wrap the sequence number to 32 bits", () => {
    expect(decodeLiveFrame(encodeLiveFrame({ ...header, seq: 2 ** 32 + 5 }, au)).seq).toBe(5);
  });

  it("skip a longer header written by a newer sender", () => {
    const wire = encodeLiveFrame(header, new Uint8Array([9, 9, 1, 2, 3]));
    new DataView(wire.buffer).setUint16(2, LIVE_HEADER_BYTES + 2, true);
    expect(decodeLiveFrame(wire).data).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("reject buffers shorter than the header", () => {
    expect(() => decodeLiveFrame(new Uint8Array(0))).toThrow(RangeError);
    expect(() => decodeLiveFrame(encodeLiveFrame(header, au).subarray(0, LIVE_HEADER_BYTES - 1))).toThrow(RangeError);
  });

  it("reject another version", () => {
    const wire = encodeLiveFrame(header, au);
    wire[0] = 2;
    expect(() => decodeLiveFrame(wire)).toThrow(/version 2/);
  });

  it("reject a header length outside the frame", () => {
    const wire = encodeLiveFrame(header, au);
    const v = new DataView(wire.buffer);
    v.setUint16(2, wire.length + 1, true);
    expect(() => decodeLiveFrame(wire)).toThrow(RangeError);
    v.setUint16(2, 8, true);
    expect(() => decodeLiveFrame(wire)).toThrow(RangeError);
  });
});
