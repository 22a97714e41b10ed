/**
 * The binary websocket frame from the stream service to a viewer. This file has no imports
 * so the web page can load its compiled form as it is.
 *
 * Layout (little endian):
 *   0  u8  version (1)
 *   1  u8  flags: bit 0 = keyframe
 *   2  u16 header length (32)
 *   4  u32 sequence
 *   8  f64 pts, µs
 *  16  f64 captured wall clock, µs since epoch
 *  24  f64 relayed wall clock (stream service), µs since epoch
 *  32  H.264 access unit, Annex-B
 * Text frames carry JSON control messages (LiveControl).
 */
export const LIVE_FRAME_VERSION = 1;
export const LIVE_HEADER_BYTES = 32;

export interface LiveFrame {
  key: boolean;
  seq: number;
  ptsUs: number;
  capturedUs: number;
  relayedUs: number;
  data: Uint8Array;
}

export type LiveControl =
  | { type: "info"; device: string; profile: string; codec: string; width: number; height: number }
  | { type: "status"; state: "waiting" | "live" | "source-lost"; detail?: string }
  | { type: "error"; error: string };

export function encodeLiveFrame(f: Omit<LiveFrame, "data">, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(LIVE_HEADER_BYTES + data.length);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint8(0, LIVE_FRAME_VERSION);
  v.setUint8(1, f.key ? 1 : 0);
  v.setUint16(2, LIVE_HEADER_BYTES, true);
  v.setUint32(4, f.seq >>> 0, true);
  v.setFloat64(8, f.ptsUs, true);
  v.setFloat64(16, f.capturedUs, true);
  v.setFloat64(24, f.relayedUs, true);
  out.set(data, LIVE_HEADER_BYTES);
  return out;
}

/** Decodes a binary frame; throws a RangeError with a reason when it is not one. */
export function decodeLiveFrame(buf: ArrayBuffer | Uint8Array): LiveFrame {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.length < LIVE_HEADER_BYTES) throw new RangeError("live frame shorter than its header");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(0) !== LIVE_FRAME_VERSION) throw new RangeError(`live frame version ${v.getUint8(0)} not supported`);
  const headerLength = v.getUint16(2, true);
  if (headerLength < LIVE_HEADER_BYTES || headerLength > bytes.length) throw new RangeError("live frame header length out of range");
  return {
    key: (v.getUint8(1) & 1) === 1,
    seq: v.getUint32(4, true),
    ptsUs: v.getFloat64(8, true),
    capturedUs: v.getFloat64(16, true),
    relayedUs: v.getFloat64(24, true),
    data: bytes.subarray(headerLength),
  };
}
