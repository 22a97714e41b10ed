/**
 * The H.264 facts that wrapping the camera's access units as MP4 samples takes, shared by the
 * stream service's HLS packager, the browser's MSE player and the camera's clip remuxer:
 * NAL unit types, the decoder configuration a keyframe carries, AVCC sample data and the
 * codec string. No imports and no Node APIs, so the web client bundles it as it is.
 */

const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** What an fMP4 init segment says about the stream; a change needs a new init segment. */
export interface AvcConfig {
  width: number;
  height: number;
  /** Never empty: the SPS units of the keyframe it was read from. */
  sps: Uint8Array[];
  /** Never empty: the PPS units of the keyframe it was read from. */
  pps: Uint8Array[];
}

/** The `nal_unit_type` of a NAL unit (without start code); 0 for an empty one. */
export const nalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

/**
 * The decoder configuration carried by a keyframe's SPS and PPS; undefined when it lacks
 * either (an SPS shorter than its profile and level bytes does not count).
 */
export function readAvcConfig(nals: readonly Uint8Array[], size: { width: number; height: number }): AvcConfig | undefined {
  const sps = nals.filter((n) => nalType(n) === NAL_SPS && n.length >= 4);
  const pps = nals.filter((n) => nalType(n) === NAL_PPS);
  if (sps.length === 0 || pps.length === 0) return undefined;
  return { width: size.width, height: size.height, sps, pps };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const sameList = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => sameBytes(x, b[i] as Uint8Array));

/** Same size and byte-identical parameter sets: the init segment written for `a` serves `b`. */
export function sameAvcConfig(a: AvcConfig, b: AvcConfig): boolean {
  return a.width === b.width && a.height === b.height && sameList(a.sps, b.sps) && sameList(a.pps, b.pps);
}

/** The RFC 6381 codec string, `avc1.PPCCLL` in upper case: profile, constraint flags and level of the first SPS. */
export function codecOf(config: Pick<AvcConfig, "sps">): string {
  const sps = config.sps[0];
  const hex = (i: number) => (sps?.[i] ?? 0).toString(16).toUpperCase().padStart(2, "0");
  return `avc1.${hex(1)}${hex(2)}${hex(3)}`;
}

/** NAL units each behind a 4-byte big-endian length (AVCC), as MP4 and FLV samples carry them. */
export function toAvcc(nals: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const nal of nals) {
    view.setUint32(off, nal.length);
    out.set(nal, off + 4);
    off += 4 + nal.length;
  }
  return out;
}

/**
 * An access unit's NAL units as an fMP4 sample. Parameter sets live in the init segment's
 * `avcC` (a keyframe whose SPS or PPS differ needs a new init segment), and access unit
 * delimiters have no place in MP4.
 */
export function toSampleData(nals: readonly Uint8Array[]): Uint8Array {
  return toAvcc(
    nals.filter((n) => {
      const t = nalType(n);
      return t !== NAL_SPS && t !== NAL_PPS && t !== NAL_AUD;
    }),
  );
}
