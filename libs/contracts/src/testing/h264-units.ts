/** Hand-made H.264 NAL units for tests: real parameter sets, pictures that only say which frame they are. */

const START = [0, 0, 0, 1];
/** Constrained baseline, level 3.1 (`avc1.42c01f`). */
export const SPS = Uint8Array.from([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8]);
export const PPS = Uint8Array.from([0x68, 0xce, 0x0f, 0x2c, 0x80]);
/** An access unit delimiter. */
export const AUD = Uint8Array.from([0x09, 0xf0]);

/** Joins NAL units as Annex-B. */
export function annexB(...nals: Uint8Array[]): Uint8Array {
  return Uint8Array.from(nals.flatMap((n) => [...START, ...n]));
}

/** A picture NAL unit (IDR or not) whose bytes say which frame it is. */
export function picture(n: number, key: boolean): Uint8Array {
  return Uint8Array.from([key ? 0x65 : 0x41, 0x88, (n >> 8) & 0xff, n & 0xff, 0x11, 0x22]);
}
