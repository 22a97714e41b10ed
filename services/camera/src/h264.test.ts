import { describe, expect, it } from "vitest";
import { H264Error, NalType, nalType, parseAvcConfig, parseSps, splitAnnexB, splitAvcc, toAnnexB, unescapeRbsp } from "./h264.js";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));

// Parameter sets as libx264 (core 164) wrote them, copied from `ffmpeg … -c:v libx264 -f h264 - | xxd`.
/** 1280x720, constrained baseline (ultrafast, zerolatency), level 3.1. */
const SPS_720P = hex("6742c01f da014016 ec044000 00030040 00000ca3 c60ca8");
const PPS_720P = hex("68ce0fc8");
/** 1920x1080, High, level 4.0: 1088 coded rows cropped to 1080. */
const SPS_1080P_HIGH = hex("67640028 acd94078 0227e5c0 44000003 00040000 0300c83c 60c658");
const PPS_1080P_HIGH = hex("68ebe3cb 22c0");
/** 640x360, High 4:4:4 Predictive: chroma_format_idc 3, so cropping counts in luma samples. */
const SPS_360P_444 = hex("67f4001e 919b2814 05ff1380 88000003 00080000 03019078 b16cb0");

/** A deterministic PRNG so fuzz cases are reproducible. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function expectH264Error(fn: () => unknown): void {
  expect(fn).toThrow(H264Error);
}

function avcC(sps: Uint8Array[], pps: Uint8Array[], lengthSizeMinusOne = 3): Uint8Array {
  const first = sps[0] ?? new Uint8Array(4);
  const out = [1, first[1] ?? 0, first[2] ?? 0, first[3] ?? 0, 0xfc | lengthSizeMinusOne, 0xe0 | sps.length];
  for (const s of sps) out.push(s.length >> 8, s.length & 0xff, ...s);
  out.push(pps.length);
  for (const p of pps) out.push(p.length >> 8, p.length & 0xff, ...p);
  return Uint8Array.from(out);
}

function avcc(nals: Uint8Array[], lengthSize: number): Uint8Array {
  const out: number[] = [];
  for (const nal of nals) {
    for (let i = lengthSize - 1; i >= 0; i--) out.push(Math.floor(nal.length / 256 ** i) & 0xff);
    out.push(...nal);
  }
  return Uint8Array.from(out);
}

describe("parseSps", () => {
  it("reads a 720p constrained-baseline SPS", () => {
    expect(parseSps(SPS_720P)).toEqual({ profileIdc: 66, constraintFlags: 0xc0, levelIdc: 31, width: 1280, height: 720, codec: "avc1.42c01f" });
  });

  it("reads a 1080p High SPS and applies its cropping", () => {
    expect(parseSps(SPS_1080P_HIGH)).toEqual({ profileIdc: 100, constraintFlags: 0, levelIdc: 40, width: 1920, height: 1080, codec: "avc1.640028" });
  });

  it("crops a 4:4:4 SPS in luma samples", () => {
    expect(parseSps(SPS_360P_444)).toMatchObject({ profileIdc: 244, width: 640, height: 360, codec: "avc1.f4001e" });
  });

  it("rejects NAL units that are not an SPS", () => {
    expectH264Error(() => parseSps(PPS_1080P_HIGH));
    expectH264Error(() => parseSps(new Uint8Array(0)));
    expectH264Error(() => parseSps(hex("6742c0")));
  });

  it("rejects an SPS cut before its picture size, at every length", () => {
    // 720p SPS: the size and cropping fields end within the first 8 bytes.
    for (let n = 0; n < 8; n++) expectH264Error(() => parseSps(SPS_720P.subarray(0, n)));
  });

  it("never does anything but return the right size or throw H264Error when truncated", () => {
    for (const sps of [SPS_720P, SPS_1080P_HIGH, SPS_360P_444]) {
      const whole = parseSps(sps);
      for (let n = 0; n < sps.length; n++) {
        let info;
        try {
          info = parseSps(sps.subarray(0, n));
        } catch (err) {
          expect(err).toBeInstanceOf(H264Error);
          continue;
        }
        expect(info).toEqual(whole);
      }
    }
  });

  it("survives random garbage after an SPS header byte", () => {
    const random = prng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 4 + Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      bytes[0] = 0x67;
      if (i % 2 === 0) bytes[1] = 100; // take the High-profile branch half the time
      try {
        const info = parseSps(bytes);
        expect(info.width).toBeGreaterThan(0);
        expect(info.height).toBeGreaterThan(0);
        expect(info.width).toBeLessThanOrEqual(16384);
        expect(info.height).toBeLessThanOrEqual(16384);
      } catch (err) {
        expect(err).toBeInstanceOf(H264Error);
      }
    }
  });

  it("rejects an exp-Golomb code longer than 32 bits", () => {
    expectH264Error(() => parseSps(hex("6742c01f 00000000 00000000 ff")));
  });
});

describe("unescapeRbsp", () => {
  it("removes the emulation-prevention byte after two zeros", () => {
    expect(unescapeRbsp(hex("000003 01"))).toEqual(hex("0000 01"));
    expect(unescapeRbsp(hex("000003 000003 00"))).toEqual(hex("0000 0000 00"));
    expect(unescapeRbsp(hex("00000303"))).toEqual(hex("000003"));
  });

  it("leaves a 03 alone unless two zeros precede it", () => {
    expect(unescapeRbsp(hex("0003 0103 030000"))).toEqual(hex("0003 0103 030000"));
    expect(unescapeRbsp(hex("00010003"))).toEqual(hex("00010003"));
    expect(unescapeRbsp(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it("shortens a real SPS by its one escape", () => {
    const rbsp = unescapeRbsp(SPS_720P);
    expect(rbsp.length).toBe(SPS_720P.length - 1);
    expect([...rbsp.subarray(10, 15)]).toEqual([0x40, 0, 0, 0, 0x40]);
  });
});

describe("parseAvcConfig", () => {
  it("reads the length size and parameter sets", () => {
    const config = parseAvcConfig(avcC([SPS_1080P_HIGH], [PPS_1080P_HIGH]));
    expect(config.lengthSize).toBe(4);
    expect(config.sps).toEqual([SPS_1080P_HIGH]);
    expect(config.pps).toEqual([PPS_1080P_HIGH]);
    expect(parseSps(config.sps[0]!)).toMatchObject({ width: 1920, height: 1080 });
  });

  it("reads several parameter sets and 1- and 2-byte lengths", () => {
    expect(parseAvcConfig(avcC([SPS_720P, SPS_1080P_HIGH], [PPS_720P, PPS_1080P_HIGH], 0))).toEqual({
      lengthSize: 1,
      sps: [SPS_720P, SPS_1080P_HIGH],
      pps: [PPS_720P, PPS_1080P_HIGH],
    });
    expect(parseAvcConfig(avcC([SPS_720P], [PPS_720P], 1)).lengthSize).toBe(2);
  });

  it("rejects a wrong version, a 3-byte length size and a record without SPS or PPS", () => {
    const good = avcC([SPS_720P], [PPS_720P]);
    const badVersion = good.slice();
    badVersion[0] = 0;
    expectH264Error(() => parseAvcConfig(badVersion));
    expectH264Error(() => parseAvcConfig(avcC([SPS_720P], [PPS_720P], 2)));
    expectH264Error(() => parseAvcConfig(avcC([], [PPS_720P])));
    expectH264Error(() => parseAvcConfig(avcC([SPS_720P], [])));
  });

  it("rejects a zero-length parameter set", () => {
    expectH264Error(() => parseAvcConfig(avcC([new Uint8Array(0)], [PPS_720P])));
  });

  it("rejects every truncation of a record", () => {
    const good = avcC([SPS_720P], [PPS_720P]);
    for (let n = 0; n < good.length; n++) expectH264Error(() => parseAvcConfig(good.subarray(0, n)));
  });

  it("throws only H264Error on random bytes", () => {
    const random = prng(11);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 256));
      bytes[0] = 1;
      try {
        parseAvcConfig(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(H264Error);
      }
    }
  });
});

describe("AVCC and Annex-B", () => {
  const idr = hex("65 888400 000003 0102 ff00ff");
  const nals = [SPS_720P, PPS_720P, idr];

  it("splitAvcc undoes length prefixes of every size", () => {
    for (const size of [1, 2, 4]) expect(splitAvcc(avcc(nals, size), size)).toEqual(nals);
    expect(splitAvcc(new Uint8Array(0), 4)).toEqual([]);
  });

  it("splitAvcc rejects lengths that run past the sample, zero lengths and cut prefixes", () => {
    const sample = avcc(nals, 4);
    for (let n = 1; n < sample.length; n++) {
      if (n === 4 + SPS_720P.length || n === 8 + SPS_720P.length + PPS_720P.length) continue; // whole NALs
      expectH264Error(() => splitAvcc(sample.subarray(0, n), 4));
    }
    expectH264Error(() => splitAvcc(hex("00000000 65"), 4));
    expectH264Error(() => splitAvcc(hex("ffffffff 65"), 4));
  });

  it("toAnnexB and splitAnnexB round-trip NAL units", () => {
    const annexB = toAnnexB(nals);
    expect([...annexB.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    expect(splitAnnexB(annexB)).toEqual(nals);
    expect(splitAnnexB(toAnnexB(splitAvcc(avcc(nals, 4), 4)))).toEqual(nals);
    expect(splitAnnexB(annexB).map(nalType)).toEqual([NalType.sps, NalType.pps, NalType.idr]);
  });

  it("splitAnnexB accepts 3-byte start codes and ignores bytes before the first", () => {
    expect(splitAnnexB(hex("ffee 000001 6742 000001 68ce 00000001 6588"))).toEqual([hex("6742"), hex("68ce"), hex("6588")]);
  });

  it("splitAnnexB finds nothing in an empty buffer or one without a start code", () => {
    expect(splitAnnexB(new Uint8Array(0))).toEqual([]);
    expect(splitAnnexB(hex("6742c01f"))).toEqual([]);
    expect(splitAnnexB(hex("000001"))).toEqual([]);
  });

  it("splitAnnexB does not split at escaped start-code lookalikes", () => {
    expect(splitAnnexB(toAnnexB([idr]))).toEqual([idr]);
  });
});
