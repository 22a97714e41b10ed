import { H264Error, parseAvcConfig, type AvcConfig } from "./h264.js";

/**
 * A streaming FLV demuxer for the H.264 video track. FLV is what ffmpeg writes per packet the
 * moment the encoder hands it over (fragmented MP4 waits for the next frame to know a
 * sample's duration), so frames leave the camera without a frame of delay.
 */
export type FlvItem =
  | { kind: "config"; config: AvcConfig }
  | { kind: "frame"; key: boolean; dtsMs: number; ptsMs: number; data: Uint8Array };

const HEADER_BYTES = 9;
const TAG_HEADER_BYTES = 11;
/**
 * Larger than any sane frame; a bigger tag means the stream is corrupt. (Below the 24-bit size
 * field's own limit of 16 MiB − 1, or the check could never fire.)
 */
const MAX_TAG_BYTES = 8 * 1024 * 1024;

export class FlvDemuxer {
  private buf: Buffer = Buffer.alloc(0);
  private headerSeen = false;

  /** Feeds bytes; returns every complete item they finish. Throws H264Error on corrupt input. */
  push(chunk: Uint8Array): FlvItem[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const items: FlvItem[] = [];
    if (!this.headerSeen) {
      if (this.buf.length < HEADER_BYTES + 4) return items;
      if (this.buf.toString("latin1", 0, 3) !== "FLV") throw new H264Error("stream is not FLV");
      const dataOffset = this.buf.readUInt32BE(5);
      if (dataOffset < HEADER_BYTES || dataOffset > 1024) throw new H264Error("FLV header size out of range");
      if (this.buf.length < dataOffset + 4) return items;
      this.buf = this.buf.subarray(dataOffset + 4);
      this.headerSeen = true;
    }
    while (this.buf.length >= TAG_HEADER_BYTES) {
      const type = this.buf[0] as number;
      const size = this.buf.readUIntBE(1, 3);
      if (size > MAX_TAG_BYTES) throw new H264Error(`FLV tag of ${size} bytes`);
      const total = TAG_HEADER_BYTES + size + 4;
      if (this.buf.length < total) break;
      const ts = this.buf.readUIntBE(4, 3) + (this.buf[7] as number) * 0x1000000;
      const body = this.buf.subarray(TAG_HEADER_BYTES, TAG_HEADER_BYTES + size);
      this.buf = this.buf.subarray(total);
      if (type === 9) {
        const item = this.videoTag(body, ts);
        if (item !== undefined) items.push(item);
      }
    }
    return items;
  }

  private videoTag(body: Uint8Array, dtsMs: number): FlvItem | undefined {
    if (body.length < 5) throw new H264Error("FLV video tag too short");
    const frameType = (body[0] as number) >> 4;
    const codecId = (body[0] as number) & 0x0f;
    if (codecId !== 7) throw new H264Error(`FLV video codec ${codecId} is not H.264`);
    const packetType = body[1] as number;
    let cts = (((body[2] as number) << 16) | ((body[3] as number) << 8) | (body[4] as number)) >>> 0;
    if (cts & 0x800000) cts -= 0x1000000;
    const payload = body.subarray(5);
    // ffmpeg writes an empty record when the encoder has no global header; SPS/PPS then come in-band.
    if (packetType === 0) return payload.length === 0 ? undefined : { kind: "config", config: parseAvcConfig(payload) };
    if (packetType === 1) {
      if (payload.length === 0) return undefined;
      return { kind: "frame", key: frameType === 1, dtsMs, ptsMs: dtsMs + cts, data: payload };
    }
    return undefined; // end of sequence
  }
}
