import { describe, expect, it } from "vitest";
import { TIMESCALE, fragment, initSegment, splitNals } from "./fmp4.js";
import { toSampleData } from "./h264.js";
import { PPS, SPS, boxes, picture, readFragments } from "./testing/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("splitNals", () => {
  it("splits 3- and 4-byte start codes and drops trailing zero bytes", () => {
    const au = Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x65, 7, 0, 0, 3, 1, 0, 0]);
    expect(splitNals(au).map(hex)).toEqual(["09f0", "670102", "650700000301"]);
  });

  it("returns one NAL unit for a unit without a second start code", () => {
    expect(splitNals(Uint8Array.from([0, 0, 1, 0x41, 9])).map(hex)).toEqual(["4109"]);
  });
});

describe("init segment and fragments", () => {
  const config = { width: 1280, height: 720, sps: [SPS], pps: [PPS] };

  it("writes ftyp and moov with the parameter sets in avcC and the profile bytes from the SPS", () => {
    const init = initSegment(config);
    expect(boxes(init).map((b) => b.type)).toEqual(["ftyp", "moov"]);
    const text = hex(init);
    // avcC: version 1, profile/compat/level from SPS bytes 1..3, 4-byte lengths, 1 SPS, 1 PPS
    // (mux.js leaves the reserved bits of the SPS count at 0; decoders mask them off).
    expect(text).toContain(`61766343 01 42c01f ff 01 0009 ${hex(SPS)} 01 0005 ${hex(PPS)}`.replace(/ /g, ""));
    expect(text).toContain("6d766578"); // mvex: a fragmented file
  });

  it("writes a moof whose trun points at the samples in the mdat after it, with sync flags and durations", () => {
    const samples = [
      { data: toSampleData([picture(0, true)]), duration: 3600, key: true },
      { data: toSampleData([picture(1, false)]), duration: 3598, key: false },
    ];
    const bytes = fragment(config, 7, 123 * TIMESCALE, samples);
    const [f, ...rest] = readFragments(bytes);
    expect(rest).toEqual([]);
    expect(f?.sequence).toBe(7);
    expect(f?.baseDecodeTime).toBe(123 * TIMESCALE);
    expect(f?.samples.map((s) => [s.duration, s.sync, hex(s.data)])).toEqual(samples.map((s) => [s.duration, s.key, hex(s.data)]));
  });

  it("writes one frame as a fragment of its own, as the MSE player appends them", () => {
    const data = toSampleData([picture(3, false)]);
    const [f] = readFragments(fragment(config, 1, 5 * 3600, [{ data, duration: 3600, key: false }]));
    expect(f?.baseDecodeTime).toBe(5 * 3600);
    expect(f?.samples.map((s) => [s.duration, s.sync, hex(s.data)])).toEqual([[3600, false, hex(data)]]);
  });
});
