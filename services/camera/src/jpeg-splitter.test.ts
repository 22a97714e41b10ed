import { describe, expect, it } from "vitest";
import { JpegSplitter, jpegSize } from "./jpeg-splitter.js";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));

/** The headers of a 320x240 JPEG from ffmpeg's mjpeg encoder, up to and including SOF0. */
const FFMPEG_320x240_HEADER = hex(
  "ffd8ffe000104a46494600010200000100010000fffe00104c61766335392e33372e31303000ffdb0043000808080908090b0b0b0b0b0b0d0c0d0d0d0d0d0d0d" +
    "0d0d0d0d0e0e0e1111110e0e0e0d0d0e0e10101111121312111111111313141414181817171c1c1d222229ffc400c30001010100030101010000000000000000" +
    "0006050704030802010101000203010101000000000000000000000506070408030102100001030203030b01040608070101000000021101031221130406310541" +
    "328334b34422148251c21571338142a191c152236116f0d2d3a3b153a2c36284a464b2e3722411000103020401050d040804050501000001000203041112312105" +
    "133222334106b2b4b1618272b33651341407358323917581d115847442715216a1d362d25324a254639373f09243ffc000110800f0014003012200021100031100",
);

/** A JPEG-shaped image: SOI, SOF0 with the size, SOS, entropy data with stuffed FF 00 and a restart marker, EOI. */
function image(width: number, height: number, fill: number): Uint8Array {
  const sof = [0xff, 0xc0, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0];
  const sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0];
  const data = [fill, 0xff, 0x00, fill, 0xff, 0xd0, fill, fill ^ 0x55];
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, ...sof, ...sos, ...data, 0xff, 0xd9]);
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function feed(splitter: JpegSplitter, chunks: Uint8Array[]): Uint8Array[] {
  return chunks.flatMap((c) => splitter.push(c)).map((b) => Uint8Array.from(b));
}

const images = [image(320, 240, 1), image(640, 480, 2), image(1280, 720, 3)];
const garbage = Uint8Array.from([0x00, 0xff, 0x12, 0xff, 0xd9, 0xff, 0xd8, 0x00, 0xff]);
const stream = concat(garbage, images[0]!, images[1]!, garbage, images[2]!);

describe("JpegSplitter", () => {
  it("splits concatenated images and skips bytes before an image's start", () => {
    expect(feed(new JpegSplitter(), [stream])).toEqual(images);
  });

  it("yields the same images wherever the stream is split", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(feed(new JpegSplitter(), [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(images);
    }
  });

  it("yields the same images fed in random chunk sizes", () => {
    const random = prng(3);
    for (let trial = 0; trial < 200; trial++) {
      const chunks: Uint8Array[] = [];
      for (let off = 0; off < stream.length; ) {
        const n = 1 + Math.floor(random() * 12);
        chunks.push(stream.subarray(off, off + n));
        off += n;
      }
      expect(feed(new JpegSplitter(), chunks)).toEqual(images);
    }
  });

  it("drops an image that never ends once it passes maxBytes, and recovers at the next image", () => {
    const splitter = new JpegSplitter(1000);
    const out = [...splitter.push(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))];
    for (let i = 0; i < 100; i++) out.push(...splitter.push(new Uint8Array(100).fill(0x11)));
    // The end of the runaway image, then a good one: only the good one comes out.
    out.push(...splitter.push(concat(Uint8Array.of(0x22, 0xff, 0xd9), images[0]!)));
    expect(out.map((b) => Uint8Array.from(b))).toEqual([images[0]]);
  });

  it("returns images that stay valid after later pushes", () => {
    const splitter = new JpegSplitter();
    const [first] = splitter.push(concat(images[0]!, images[1]!.subarray(0, 5)));
    splitter.push(images[1]!.subarray(5));
    expect(Uint8Array.from(first!)).toEqual(images[0]);
  });
});

describe("jpegSize", () => {
  it("reads the size from ffmpeg's SOF0 after APP0, COM, DQT and DHT segments", () => {
    expect(jpegSize(FFMPEG_320x240_HEADER)).toEqual({ width: 320, height: 240 });
  });

  it("reads the size of the test images and of a progressive (SOF2) image", () => {
    expect(jpegSize(images[2]!)).toEqual({ width: 1280, height: 720 });
    const progressive = image(800, 600, 1);
    progressive[9] = 0xc2;
    expect(jpegSize(progressive)).toEqual({ width: 800, height: 600 });
  });

  it("returns undefined for a truncated header at every length, never a wrong size", () => {
    for (let n = 0; n < FFMPEG_320x240_HEADER.length; n++) {
      const size = jpegSize(FFMPEG_320x240_HEADER.subarray(0, n));
      if (size !== undefined) expect(size).toEqual({ width: 320, height: 240 });
    }
    expect(jpegSize(FFMPEG_320x240_HEADER.subarray(0, 0x130))).toBeUndefined();
  });

  it("returns undefined for bytes that are not a JPEG", () => {
    expect(jpegSize(new Uint8Array(0))).toBeUndefined();
    expect(jpegSize(new TextEncoder().encode("definitely not a jpeg image"))).toBeUndefined();
  });
});
