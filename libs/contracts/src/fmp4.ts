import { NalByteStream } from "mux.js/lib/codecs/h264.js";
import generator, { type Sample, type VideoTrack } from "mux.js/lib/mp4/mp4-generator.js";
import type { AvcConfig } from "./h264.js";

/**
 * Fragmented MP4 for H.264, built with mux.js's box generator (the one video.js uses for
 * MSE): this module only turns the camera's Annex-B access units into NAL units for
 * `h264.ts` and its AVCC samples and parameter sets into boxes. Fragment boundaries are the
 * caller's: the stream service's LL-HLS parts start anywhere, the MSE player makes one
 * fragment per frame.
 *
 * mux.js is an optional peer dependency of this package: whoever imports this subpath
 * (`@picket/contracts/fmp4`) depends on mux.js itself; the rest of the package needs none.
 */

/** Ticks per second of every timestamp here (mux.js writes 90 kHz into `mvhd` and `mdhd`). */
export const TIMESCALE = 90_000;

const TRACK_ID = 1;

/** One access unit ready for a fragment. */
export interface Fmp4Sample {
  /** NAL units with 4-byte lengths, without delimiters and parameter sets (see `toSampleData`). */
  data: Uint8Array;
  /** In TIMESCALE ticks. */
  duration: number;
  key: boolean;
}

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

/** `ftyp` + `moov` for one H.264 track, of indefinite duration. */
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
