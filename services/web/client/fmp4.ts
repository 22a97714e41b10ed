import { NalByteStream } from "mux.js/lib/codecs/h264.js";
import generator, { type VideoTrack } from "mux.js/lib/mp4/mp4-generator.js";

/**
 * Fragmented MP4 for the MSE path, built with mux.js's box generator (the one video.js uses
 * for MSE): this module only turns the camera's Annex-B access units into what the generator
 * takes, NAL units, AVCC samples and the parameter sets for `avcC`. One fragment per frame,
 * so a frame can be appended the moment it arrives.
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
  sps: Uint8Array;
  pps: Uint8Array;
}

export const nalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

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

/** The decoder configuration a keyframe carries in its SPS and PPS; undefined without them. */
export function readAvcConfig(nals: readonly Uint8Array[], size: { width: number; height: number }): AvcConfig | undefined {
  const sps = nals.find((n) => nalType(n) === NAL_SPS && n.length >= 4);
  const pps = nals.find((n) => nalType(n) === NAL_PPS);
  if (sps === undefined || pps === undefined) return undefined;
  return { width: size.width, height: size.height, sps, pps };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export function sameAvcConfig(a: AvcConfig, b: AvcConfig): boolean {
  return a.width === b.width && a.height === b.height && sameBytes(a.sps, b.sps) && sameBytes(a.pps, b.pps);
}

/** The RFC 6381 codec string, `avc1.PPCCLL`: profile, constraint flags and level from the SPS. */
export function codecOf(sps: Uint8Array): string {
  const hex = (i: number) => (sps[i] ?? 0).toString(16).toUpperCase().padStart(2, "0");
  return `avc1.${hex(1)}${hex(2)}${hex(3)}`;
}

/**
 * An access unit's NAL units as an MP4 sample: each with a 4-byte length. Parameter sets
 * live in the init segment (a keyframe whose SPS or PPS differ needs a new one), and access
 * unit delimiters have no place in MP4.
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
  return {
    id: TRACK_ID,
    type: "video",
    width: config.width,
    height: config.height,
    sps: [config.sps],
    pps: [config.pps],
    // The three bytes after the SPS's NAL header, as avcC repeats them.
    profileIdc: config.sps[1] as number,
    profileCompatibility: config.sps[2] as number,
    levelIdc: config.sps[3] as number,
  };
}

/** `ftyp` + `moov` for one H.264 track. */
export function initSegment(config: AvcConfig): Uint8Array {
  return generator.initSegment([track(config)]);
}

/**
 * One frame as a fragment (`moof` + `mdat`) decoded at `decodeTick` for `durationTicks`.
 * Presentation order is decode order: the camera's encoders make no B-frames.
 */
export function frameFragment(config: AvcConfig, sequence: number, frame: { data: Uint8Array; key: boolean; decodeTick: number; durationTicks: number }): Uint8Array {
  const moof = generator.moof(sequence, [
    {
      ...track(config),
      baseMediaDecodeTime: frame.decodeTick,
      samples: [
        {
          duration: frame.durationTicks,
          size: frame.data.length,
          compositionTimeOffset: 0,
          flags: { isLeading: 0, dependsOn: frame.key ? 2 : 1, isDependedOn: 0, hasRedundancy: 0, paddingValue: 0, isNonSyncSample: frame.key ? 0 : 1, degradationPriority: 0 },
        },
      ],
    },
  ]);
  const mdat = generator.mdat(frame.data);
  const out = new Uint8Array(moof.length + mdat.length);
  out.set(moof);
  out.set(mdat, moof.length);
  return out;
}
