// The H.264 parsers: Annex-B splitting (the camera's and mux.js's), NAL types, RBSP
// unescaping, SPS parsing and codec strings, avcC records and AVCC samples.
import fc from "fast-check";
import { codecOf, nalType as contractsNalType, readAvcConfig, toAvcc, toSampleData } from "../../../libs/contracts/src/h264.js";
import { splitNals } from "../../../libs/contracts/src/fmp4.js";
import { H264Error, nalType, parseAvcConfig, parseSps, splitAnnexB, splitAvcc, toAnnexB, unescapeRbsp } from "../../../services/camera/src/h264.js";
import { bytes, concat, hex, onlyThrows, prop, type BadInputFamily } from "./family.js";

const isH264Error = (err: unknown) => err instanceof H264Error;

/** Inserts emulation-prevention bytes (00 00 0x, x ≤ 3 → 00 00 03 0x), as an encoder does. */
export function escapeRbsp(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

/**
 * A NAL unit as an encoder writes one: a header byte (forbidden bit clear, type 1–23), an
 * escaped payload, and a last byte that is not zero (the RBSP stop bit lives there).
 */
export const nalUnit: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 23 }), bytes(64), fc.integer({ min: 1, max: 255 }))
  .map(([ref, type, body, last]) => concat([Uint8Array.of((ref << 5) | type), escapeRbsp(concat([body, Uint8Array.of(last)]))]));

/** Annex-B with 3- and 4-byte start codes and trailing zero bytes between units. */
const annexBStream = fc.array(fc.tuple(nalUnit, fc.boolean(), fc.nat(3)), { minLength: 1, maxLength: 8 }).map((units) => ({
  nals: units.map(([n]) => n),
  stream: concat(units.flatMap(([n, long, pad]) => [long ? Uint8Array.of(0, 0, 0, 1) : Uint8Array.of(0, 0, 1), n, new Uint8Array(pad)])),
}));

// --- An SPS writer, the reference for the parser -------------------------------------------

class BitWriter {
  private readonly bitsOut: number[] = [];
  bit(v: number): void {
    this.bitsOut.push(v & 1);
  }
  bits(n: number, v: number): void {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(v / 2 ** i) % 2);
  }
  ue(v: number): void {
    const len = Math.floor(Math.log2(v + 1));
    this.bits(len, 0);
    this.bits(len + 1, v + 1);
  }
  se(v: number): void {
    this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** The RBSP: stop bit, then zero bits to a byte boundary. */
  finish(): Uint8Array {
    this.bit(1);
    while (this.bitsOut.length % 8 !== 0) this.bit(0);
    const out = new Uint8Array(this.bitsOut.length / 8);
    this.bitsOut.forEach((b, i) => (out[i >> 3] = (out[i >> 3] as number) | (b << (7 - (i & 7)))));
    return out;
  }
}

const HIGH = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

interface SpsFields {
  profile: number;
  constraints: number;
  level: number;
  chroma: number;
  separatePlanes: number;
  scaling: number[][] | undefined;
  pocType: number;
  pocCycle: number[];
  widthMbs: number;
  heightUnits: number;
  frameMbsOnly: number;
  crop: [number, number, number, number] | undefined;
}

const spsFields: fc.Arbitrary<SpsFields> = fc.record({
  profile: fc.oneof(fc.constantFrom(66, 77, 88, ...HIGH), fc.integer({ min: 0, max: 255 })),
  constraints: fc.integer({ min: 0, max: 255 }),
  level: fc.integer({ min: 0, max: 255 }),
  chroma: fc.integer({ min: 0, max: 3 }),
  separatePlanes: fc.integer({ min: 0, max: 1 }),
  scaling: fc.option(fc.array(fc.array(fc.integer({ min: -128, max: 127 }), { maxLength: 64 }), { minLength: 12, maxLength: 12 }), { nil: undefined }),
  pocType: fc.integer({ min: 0, max: 2 }),
  pocCycle: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 8 }),
  widthMbs: fc.integer({ min: 1, max: 1100 }),
  heightUnits: fc.integer({ min: 1, max: 1100 }),
  frameMbsOnly: fc.integer({ min: 0, max: 1 }),
  crop: fc.option(fc.tuple(fc.nat(40), fc.nat(40), fc.nat(40), fc.nat(40)), { nil: undefined }),
});

/** The SPS NAL unit for `f`, escaped, and the size a decoder shows. */
function writeSps(f: SpsFields): { nal: Uint8Array; width: number; height: number } {
  const w = new BitWriter();
  w.bits(8, f.profile);
  w.bits(8, f.constraints);
  w.bits(8, f.level);
  w.ue(0);
  const high = HIGH.includes(f.profile);
  const chroma = high ? f.chroma : 1;
  const separate = high && chroma === 3 ? f.separatePlanes : 0;
  if (high) {
    w.ue(chroma);
    if (chroma === 3) w.bit(separate);
    w.ue(0);
    w.ue(0);
    w.bit(0);
    w.bit(f.scaling === undefined ? 0 : 1);
    if (f.scaling !== undefined) {
      for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
        const list = f.scaling[i] as number[];
        w.bit(list.length > 0 ? 1 : 0);
        if (list.length === 0) continue;
        // Mirrors the parser: deltas are read while the next scale is not 0.
        let last = 8;
        let next = 8;
        for (let j = 0, k = 0; j < (i < 6 ? 16 : 64); j++) {
          if (next !== 0) {
            const delta = list[k++ % list.length] as number;
            w.se(delta);
            next = (last + delta + 256) % 256;
          }
          last = next === 0 ? last : next;
        }
      }
    }
  }
  w.ue(0);
  w.ue(f.pocType);
  if (f.pocType === 0) w.ue(4);
  else if (f.pocType === 1) {
    w.bit(0);
    w.se(-2);
    w.se(3);
    w.ue(f.pocCycle.length);
    for (const c of f.pocCycle) w.se(c);
  }
  w.ue(1);
  w.bit(0);
  w.ue(f.widthMbs - 1);
  w.ue(f.heightUnits - 1);
  w.bit(f.frameMbsOnly);
  if (f.frameMbsOnly === 0) w.bit(0);
  w.bit(1);
  w.bit(f.crop === undefined ? 0 : 1);
  if (f.crop !== undefined) for (const c of f.crop) w.ue(c);
  w.bit(0); // no VUI
  const chromaArray = separate === 1 ? 0 : chroma;
  const subW = chromaArray === 1 || chromaArray === 2 ? 2 : 1;
  const subH = chromaArray === 1 ? 2 : 1;
  const [l, r, t, b] = f.crop ?? [0, 0, 0, 0];
  const width = f.widthMbs * 16 - (l + r) * (chromaArray === 0 ? 1 : subW);
  const height = (2 - f.frameMbsOnly) * f.heightUnits * 16 - (t + b) * (chromaArray === 0 ? 1 : subH) * (2 - f.frameMbsOnly);
  return { nal: concat([Uint8Array.of(0x67), escapeRbsp(w.finish())]), width, height };
}

/** An avcC record of these parameter sets. */
function writeAvcc(sps: Uint8Array[], pps: Uint8Array[], lengthSize: number): Uint8Array {
  const first = sps[0] ?? Uint8Array.of(0x67, 66, 0, 30);
  const set = (n: Uint8Array) => concat([Uint8Array.of(n.length >> 8, n.length & 0xff), n]);
  return concat([Uint8Array.of(1, first[1] ?? 0, first[2] ?? 0, first[3] ?? 0, 0xfc | (lengthSize - 1), 0xe0 | sps.length), ...sps.map(set), Uint8Array.of(pps.length), ...pps.map(set)]);
}

const spsLike = fc.tuple(bytes(3), bytes(40)).map(([head, rest]) => concat([Uint8Array.of(0x67), head, rest]));

export const h264Families: BadInputFamily[] = [
  {
    id: "bad-input-h264-annexb",
    family: "H.264 Annex-B splitting and NAL types (camera and mux.js)",
    outcome: "never throws; a unit per start code, no start code or trailing zeros inside; a well-formed stream splits back into its units",
    properties: [
      prop("arbitrary bytes split into non-empty units without start codes", 300, bytes(512), (b) => {
        for (const split of [splitAnnexB(b), splitNals(b)]) {
          for (const n of split) {
            if (n.length === 0 || /000001/.test(hex(n)) || n[n.length - 1] === 0) return false;
            if (nalType(n) !== ((n[0] as number) & 0x1f) || contractsNalType(n) !== nalType(n)) return false;
          }
        }
        return nalType(new Uint8Array(0)) === 0;
      }),
      prop("a well-formed stream splits into its units, by both splitters", 300, annexBStream, ({ nals, stream }) => {
        const want = nals.map(hex).join(",");
        return splitAnnexB(stream).map(hex).join(",") === want && splitNals(stream).map(hex).join(",") === want;
      }),
      prop("joining and splitting again gives the units back", 200, fc.array(nalUnit, { maxLength: 8 }), (nals) => splitAnnexB(toAnnexB(nals)).map(hex).join(",") === nals.map(hex).join(",")),
      prop("unescaping undoes escaping", 300, bytes(256), (b) => hex(unescapeRbsp(escapeRbsp(b))) === hex(b)),
    ],
  },
  {
    id: "bad-input-h264-sps",
    family: "H.264 SPS parsing and codec strings",
    outcome: "H264Error for anything that is not an SPS of a sane size; a written SPS reads back with its size and codec",
    properties: [
      prop("arbitrary bytes: H264Error or a size in 1–16384 and an avc1 codec", 500, fc.oneof(bytes(64), spsLike), (nal) => {
        const info = onlyThrows(() => parseSps(nal), isH264Error);
        if (info === undefined) return true;
        return info.width >= 1 && info.width <= 16384 && info.height >= 1 && info.height <= 16384 && /^avc1\.[0-9a-f]{6}$/.test(info.codec) && codecOf({ sps: [nal] }).toLowerCase() === info.codec;
      }),
      prop("an SPS as an encoder writes it reads back", 400, spsFields, (f) => {
        const { nal, width, height } = writeSps(f);
        const info = onlyThrows(() => parseSps(nal), isH264Error);
        const sane = width >= 1 && height >= 1 && width <= 16384 && height <= 16384;
        if (!sane) return info === undefined;
        const digits = [f.profile, f.constraints, f.level].map((v) => v.toString(16).padStart(2, "0")).join("");
        return info !== undefined && info.width === width && info.height === height && info.codec === `avc1.${digits}` && codecOf({ sps: [nal] }) === `avc1.${digits.toUpperCase()}`;
      }),
      prop("an SPS cut short anywhere is refused or read, never misread past its end", 200, fc.tuple(spsFields, fc.nat()), ([f, cut]) => {
        const { nal } = writeSps(f);
        const short = nal.subarray(0, Math.max(1, cut % nal.length));
        onlyThrows(() => parseSps(short), isH264Error);
      }),
    ],
  },
  {
    id: "bad-input-h264-avcc",
    family: "H.264 avcC records and AVCC samples",
    outcome: "H264Error for a truncated or inconsistent record or sample; written ones read back; readAvcConfig never throws",
    properties: [
      prop("arbitrary avcC bytes: H264Error or parameter sets inside the record", 400, fc.oneof(bytes(96), fc.tuple(fc.constantFrom(1), bytes(95)).map(([v, r]) => concat([Uint8Array.of(v), r]))), (b) => {
        const cfg = onlyThrows(() => parseAvcConfig(b), isH264Error);
        if (cfg === undefined) return true;
        return [1, 2, 4].includes(cfg.lengthSize) && cfg.sps.length > 0 && cfg.pps.length > 0 && [...cfg.sps, ...cfg.pps].every((n) => n.length > 0 && n.buffer === b.buffer);
      }),
      prop("a written avcC reads back", 200, fc.tuple(fc.array(nalUnit, { minLength: 1, maxLength: 3 }), fc.array(nalUnit, { minLength: 1, maxLength: 3 }), fc.constantFrom(1, 2, 4)), ([sps, pps, lengthSize]) => {
        const cfg = parseAvcConfig(writeAvcc(sps, pps, lengthSize));
        return cfg.lengthSize === lengthSize && cfg.sps.map(hex).join() === sps.map(hex).join() && cfg.pps.map(hex).join() === pps.map(hex).join();
      }),
      prop("arbitrary samples: H264Error or units that tile the sample", 400, fc.tuple(bytes(128), fc.constantFrom(1, 2, 4)), ([b, size]) => {
        const nals = onlyThrows(() => splitAvcc(b, size), isH264Error);
        return nals === undefined || nals.reduce((n, u) => n + size + u.length, 0) === b.length;
      }),
      prop("toAvcc and toSampleData read back with splitAvcc; readAvcConfig finds the parameter sets", 300, fc.array(fc.oneof(nalUnit, bytes(8)), { maxLength: 8 }), (nals) => {
        const units = nals.filter((n) => n.length > 0);
        if (splitAvcc(toAvcc(units), 4).map(hex).join() !== units.map(hex).join()) return false;
        const sample = splitAvcc(toSampleData(units), 4);
        if (sample.some((n) => [7, 8, 9].includes(contractsNalType(n)))) return false;
        const cfg = readAvcConfig(nals, { width: 2, height: 2 });
        const hasSps = nals.some((n) => contractsNalType(n) === 7 && n.length >= 4);
        const hasPps = nals.some((n) => contractsNalType(n) === 8);
        return cfg === undefined ? !(hasSps && hasPps) : hasSps && hasPps && /^avc1\.[0-9A-F]{6}$/.test(codecOf(cfg));
      }),
    ],
  },
];
