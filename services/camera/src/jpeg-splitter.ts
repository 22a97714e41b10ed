/**
 * Splits a stream of concatenated JPEG images (ffmpeg's mjpeg image2pipe) into images. In
 * JPEG entropy-coded data every 0xFF is followed by 0x00 or a restart marker, so the first
 * FF D9 after FF D8 ends the image.
 */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  push(chunk: Uint8Array): Buffer[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const images: Buffer[] = [];
    for (;;) {
      const start = this.buf.indexOf(SOI);
      if (start < 0) {
        // Keep what could be the first bytes of an SOI split across chunks.
        this.buf = this.buf.subarray(Math.max(0, this.buf.length - (SOI.length - 1)));
        break;
      }
      const end = this.buf.indexOf(EOI, start + 2);
      if (end < 0) {
        this.buf = this.buf.subarray(start);
        // A missing EOI must not grow the buffer without bound.
        if (this.buf.length > this.maxBytes) this.buf = Buffer.alloc(0);
        break;
      }
      images.push(Buffer.from(this.buf.subarray(start, end + 2)));
      this.buf = this.buf.subarray(end + 2);
    }
    return images;
  }
}

const SOI = Buffer.from([0xff, 0xd8, 0xff]);
const EOI = Buffer.from([0xff, 0xd9]);

/** Reads width and height from a JPEG's SOF marker, or undefined. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  let off = 2;
  while (off + 9 < jpeg.length) {
    if (jpeg[off] !== 0xff) return undefined;
    const marker = jpeg[off + 1] as number;
    const len = ((jpeg[off + 2] as number) << 8) | (jpeg[off + 3] as number);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: ((jpeg[off + 5] as number) << 8) | (jpeg[off + 6] as number),
        width: ((jpeg[off + 7] as number) << 8) | (jpeg[off + 8] as number),
      };
    }
    off += 2 + len;
  }
  return undefined;
}
