/**
 * The few H.264 facts the camera needs: NAL unit types, AVCC ↔ Annex-B, the decoder
 * configuration record, and an SPS's size and codec string. Every parser throws H264Error on
 * malformed input and reads nothing out of bounds.
 */

export class H264Error extends Error {
  override readonly name = "H264Error";
}

export const NalType = { slice: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9 } as const;

const START_CODE = new Uint8Array([0, 0, 0, 1]);

export interface AvcConfig {
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Parses an AVCDecoderConfigurationRecord (`avcC`). */
export function parseAvcConfig(buf: Uint8Array): AvcConfig {
  if (buf.length < 7) throw new H264Error("avcC shorter than 7 bytes");
  if (buf[0] !== 1) throw new H264Error(`avcC version ${buf[0]} is not 1`);
  const lengthSize = ((buf[4] as number) & 3) + 1;
  if (lengthSize === 3) throw new H264Error("avcC NAL length size 3 is invalid");
  let off = 6;
  const readSet = (count: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      if (off + 2 > buf.length) throw new H264Error("avcC truncated");
      const len = ((buf[off] as number) << 8) | (buf[off + 1] as number);
      off += 2;
      if (len === 0 || off + len > buf.length) throw new H264Error("avcC parameter set truncated");
      out.push(buf.subarray(off, off + len));
      off += len;
    }
    return out;
  };
  const sps = readSet((buf[5] as number) & 31);
  if (off >= buf.length) throw new H264Error("avcC has no PPS count");
  const ppsCount = buf[off] as number;
  off += 1;
  const pps = readSet(ppsCount);
  if (sps.length === 0 || pps.length === 0) throw new H264Error("avcC without SPS or PPS");
  return { lengthSize, sps, pps };
}

/** Splits length-prefixed (AVCC) NAL units; throws when a length runs past the end. */
export function splitAvcc(buf: Uint8Array, lengthSize: number): Uint8Array[] {
  const nals: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + lengthSize > buf.length) throw new H264Error("NAL length prefix truncated");
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + (buf[off + i] as number);
    off += lengthSize;
    if (len === 0 || off + len > buf.length) throw new H264Error(`NAL length ${len} runs past the sample`);
    nals.push(buf.subarray(off, off + len));
    off += len;
  }
  return nals;
}

/** Joins NAL units as Annex-B with 4-byte start codes. */
export function toAnnexB(nals: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let off = 0;
  for (const nal of nals) {
    out.set(START_CODE, off);
    out.set(nal, off + 4);
    off += 4 + nal.length;
  }
  return out;
}

/** Splits an Annex-B buffer into its NAL units (without start codes or trailing zero bytes). */
export function splitAnnexB(buf: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  let start = -1;
  // The unit from `start` to `end`, less trailing_zero_8bits (the last unit's too).
  const take = (end: number) => {
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) nals.push(buf.subarray(start, end));
  };
  let i = 0;
  while (i + 2 < buf.length) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) take(i);
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0) take(buf.length);
  return nals;
}

export const nalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

/** Removes emulation-prevention bytes (00 00 03 → 00 00). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

class BitReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  bit(): number {
    const byte = this.buf[this.pos >> 3];
    if (byte === undefined) throw new H264Error("SPS truncated");
    const v = (byte >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new H264Error("exp-Golomb code too long");
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

export interface SpsInfo {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  width: number;
  height: number;
  /** RFC 6381 codec string, e.g. `avc1.42c01f`. */
  codec: string;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads profile, level and the cropped picture size from an SPS NAL unit. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length < 4 || nalType(nal) !== NalType.sps) throw new H264Error("not an SPS NAL unit");
  const rbsp = unescapeRbsp(nal.subarray(1));
  const r = new BitReader(rbsp);
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) throw new H264Error("chroma_format_idc out of range");
    if (chromaFormatIdc === 3) separateColourPlane = r.bit();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit() === 1) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.bit() === 0) continue;
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size; j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue();
  } else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    if (n > 255) throw new H264Error("too many ref frames in POC cycle");
    for (let i = 0; i < n; i++) r.se();
  } else if (pocType !== 2) {
    throw new H264Error("pic_order_cnt_type out of range");
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (frameMbsOnly === 0) r.bit();
  r.bit(); // direct_8x8_inference_flag
  let crop = { l: 0, r: 0, t: 0, b: 0 };
  if (r.bit() === 1) crop = { l: r.ue(), r: r.ue(), t: r.ue(), b: r.ue() };
  const chromaArray = separateColourPlane === 1 ? 0 : chromaFormatIdc;
  const subW = chromaArray === 1 || chromaArray === 2 ? 2 : 1;
  const subH = chromaArray === 1 ? 2 : 1;
  const cropX = chromaArray === 0 ? 1 : subW;
  const cropY = (chromaArray === 0 ? 1 : subH) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - (crop.l + crop.r) * cropX;
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - (crop.t + crop.b) * cropY;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new H264Error("SPS picture size out of range");
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    width,
    height,
    codec: `avc1.${hex(profileIdc)}${hex(constraintFlags)}${hex(levelIdc)}`,
  };
}
