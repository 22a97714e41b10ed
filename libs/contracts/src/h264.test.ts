import { describe, expect, it } from "vitest";
import { codecOf, nalType, readAvcConfig, sameAvcConfig, toAvcc, toSampleData, type AvcConfig } from "./h264.js";
import { AUD, PPS, SPS, picture } from "./testing/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const size = { width: 1280, height: 720 };

describe("sample data", () => {
  it("puts a 4-byte length before each NAL unit", () => {
    expect(hex(toAvcc([SPS, Uint8Array.of(0x41, 9)]))).toBe(`00000009${hex(SPS)}000000024109`);
    expect(toAvcc([])).toEqual(new Uint8Array(0));
  });

  it("keeps pictures and SEI with 4-byte lengths, and leaves delimiters and parameter sets out", () => {
    const sei = Uint8Array.from([0x06, 5, 1, 0x80]);
    const idr = picture(7, true);
    expect(hex(toSampleData([AUD, SPS, PPS, sei, idr]))).toBe(`00000004${hex(sei)}00000006${hex(idr)}`);
  });

  it("reads a NAL unit's type from its header byte", () => {
    expect([SPS, PPS, AUD, picture(0, true), picture(1, false), new Uint8Array(0)].map(nalType)).toEqual([7, 8, 9, 5, 1, 0]);
  });
});

describe("decoder configuration", () => {
  it("reads it from a keyframe, and none from a frame without SPS and PPS", () => {
    const config = readAvcConfig([AUD, SPS, PPS, picture(0, true)], size);
    expect(config?.sps.map(hex)).toEqual([hex(SPS)]);
    expect(config?.pps.map(hex)).toEqual([hex(PPS)]);
    expect(readAvcConfig([picture(1, false)], size)).toBeUndefined();
    expect(readAvcConfig([SPS, picture(1, true)], size)).toBeUndefined();
    // An SPS without its profile and level bytes is no configuration.
    expect(readAvcConfig([SPS.subarray(0, 3), PPS], size)).toBeUndefined();
  });

  it("tells a changed size or parameter set from the same configuration", () => {
    const config = readAvcConfig([SPS, PPS], size) as AvcConfig;
    const other = readAvcConfig([Uint8Array.from([0x67, 0x64, 0, 0x28]), PPS], size) as AvcConfig;
    expect(sameAvcConfig(config, { ...config, sps: [SPS.slice()], pps: [PPS.slice()] })).toBe(true);
    expect(sameAvcConfig(config, other)).toBe(false);
    expect(sameAvcConfig(config, { ...config, width: 640 })).toBe(false);
    expect(sameAvcConfig(config, { ...config, pps: [PPS, PPS] })).toBe(false);
  });

  it("gives the RFC 6381 codec string of the first SPS", () => {
    expect(codecOf({ sps: [SPS] })).toBe("avc1.42C01F");
    expect(codecOf({ sps: [Uint8Array.from([0x67, 0x64, 0, 0x28]), SPS] })).toBe("avc1.640028");
  });
});
