import { NalByteStream } from "mux.js/lib/codecs/h264.js";
import generator, { type Sample, type VideoTrack } from "mux.js/lib/mp4/mp4-generator.js";

/**
 * Fragmented MP4 for H.264, built with mux.js's box generator: this module only turns the
 * camera's Annex-B access units into what the generator takes (NAL units, AVCC samples, the
 * parameter sets for `avcC`) and back out as bytes. Fragment boundaries are the caller's, so
 * a fragment may start anywhere, not only at a keyframe (an LL-HLS part).
 */

/** Ticks per second of every timestamp here (mux.js writes 90 kHz into `mvhd` and `mdhd`). */
export const TIMESCALE = 90_000;

const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
const TRACK_ID = 1;

/** What the init segment says about the stream; a change needs a new init segment. */
export interface AvcConfig {
  width: number;
  height: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** One access unit ready for a fragment. */
export interface Fmp4Sample {
  /** NAL units with 4-byte lengths, without delimiters and parameter sets. */
  data: Uint8Array;
  /** In TIMESCALE ticks. */
  duration: number;
  key: boolean;
}

const nalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

/** The NAL units of an Annex-B access unit, without start codes or trailing zero bytes. */
export function splitNals(annexB: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  const stream = new NalByteStream();
  stream.on("data", (nal) => {
    let end = nal.length;
    while (end > 0 && nal[end - 1] === 0) end--;
    if (end > 0) nals.push(nal.subarray(0, end));
  });
  stream.push({ data: annexB });
  stream.flush();
  return nals;
}

/** The decoder configuration carried by a keyframe's SPS and PPS; undefined when it has neither. */
export function readAvcConfig(nals: readonly Uint8Array[], size: { width: number; height: number }): AvcConfig | undefined {
  const sps = nals.filter((n) => nalType(n) === NAL_SPS && n.length >= 4);
  const pps = nals.filter((n) => nalType(n) === NAL_PPS);
  if (sps.length === 0 || pps.length === 0) return undefined;
  return { width: size.width, height: size.height, sps, pps };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const sameList = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => sameBytes(x, b[i] as Uint8Array));

export function sameAvcConfig(a: AvcConfig, b: AvcConfig): boolean {
  return a.width === b.width && a.height === b.height && sameList(a.sps, b.sps) && sameList(a.pps, b.pps);
}

/**
 * An access unit's NAL units as an MP4 sample. Parameter sets live in the init segment's
 * `avcC` (a keyframe whose SPS or PPS differ starts a new init segment, see the packager),
 * and access unit delimiters have no place in MP4.
 */
export function toSampleData(nals: readonly Uint8Array[]): Uint8Array {
  const kept = nals.filter((n) => {
    const t = nalType(n);
    return t !== NAL_SPS && t !== NAL_PPS && t !== NAL_AUD;
  });
  const out = new Uint8Array(kept.reduce((n, nal) => n + 4 + nal.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const nal of kept) {
    view.setUint32(off, nal.length);
    out.set(nal, off + 4);
    off += 4 + nal.length;
  }
  return out;
}

function track(config: AvcConfig): VideoTrack {
  const sps = config.sps[0] as Uint8Array;
  return {
    id: TRACK_ID,
    type: "video",
    width: config.width,
    height: config.height,
    sps: config.sps,
    pps: config.pps,
    // The three bytes after the SPS's NAL header, as avcC repeats them.
    profileIdc: sps[1] as number,
    profileCompatibility: sps[2] as number,
    levelIdc: sps[3] as number,
  };
}

/** `ftyp` + `moov` for one H.264 track. */
export function initSegment(config: AvcConfig): Uint8Array {
  return generator.initSegment([track(config)]);
}

/**
 * One fragment (`moof` + `mdat`) with `samples` in decode order, the first decoded at
 * `baseDecodeTime` ticks. Presentation order is decode order: the camera's encoders make no
 * B-frames, so composition offsets are zero.
 */
export function fragment(config: AvcConfig, sequence: number, baseDecodeTime: number, samples: readonly Fmp4Sample[]): Uint8Array {
  const entries: Sample[] = samples.map((s) => ({
    duration: s.duration,
    size: s.data.length,
    compositionTimeOffset: 0,
    flags: { isLeading: 0, dependsOn: s.key ? 2 : 1, isDependedOn: 0, hasRedundancy: 0, paddingValue: 0, isNonSyncSample: s.key ? 0 : 1, degradationPriority: 0 },
  }));
  const moof = generator.moof(sequence, [{ ...track(config), baseMediaDecodeTime: baseDecodeTime, samples: entries }]);
  const payload = new Uint8Array(samples.reduce((n, s) => n + s.data.length, 0));
  let off = 0;
  for (const s of samples) {
    payload.set(s.data, off);
    off += s.data.length;
  }
  const mdat = generator.mdat(payload);
  const out = new Uint8Array(moof.length + mdat.length);
  out.set(moof);
  out.set(mdat, moof.length);
  return out;
}
