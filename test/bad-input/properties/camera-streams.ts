// The camera's stream parsers: the FLV demuxer (ffmpeg's H.264 output) and the JPEG splitter
// (its stills), fed in chunks cut anywhere, as a pipe delivers them.
import fc from "fast-check";
import { FlvDemuxer, type FlvItem } from "../../../services/camera/src/flv-demuxer.js";
import { H264Error } from "../../../services/camera/src/h264.js";
import { JpegSplitter, jpegSize } from "../../../services/camera/src/jpeg-splitter.js";
import { bytes, chunked, concat, hex, onlyThrows, prop, type BadInputFamily } from "./family.js";
import { nalUnit } from "./h264.js";

const isH264Error = (err: unknown) => err instanceof H264Error;
const cuts = fc.array(fc.nat(), { maxLength: 12 });

// --- FLV ------------------------------------------------------------------------------------

const u24 = (v: number) => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

const FLV_HEADER = Uint8Array.from([0x46, 0x4c, 0x56, 1, 1, ...u32(9), ...u32(0)]);

function tag(type: number, dtsMs: number, body: Uint8Array): Uint8Array {
  const head = [type, ...u24(body.length), ...u24(dtsMs & 0xffffff), (dtsMs >>> 24) & 0xff, 0, 0, 0];
  return concat([Uint8Array.from(head), body, Uint8Array.from(u32(11 + body.length))]);
}

/** What one FLV tag holds, and the item the demuxer should make of it (none for audio, metadata, empty packets). */
type FlvTag = { bytes: Uint8Array; item: FlvItem | undefined };

const avcc = fc.tuple(fc.array(nalUnit, { minLength: 1, maxLength: 2 }), fc.array(nalUnit, { minLength: 1, maxLength: 2 })).map(([sps, pps]) => {
  const set = (n: Uint8Array) => concat([Uint8Array.of(n.length >> 8, n.length & 0xff), n]);
  const record = concat([Uint8Array.of(1, 0x42, 0xc0, 0x1f, 0xff, 0xe0 | sps.length), ...sps.map(set), Uint8Array.of(pps.length), ...pps.map(set)]);
  return { record, sps, pps };
});

const flvTag: fc.Arbitrary<FlvTag> = fc.oneof(
  fc.tuple(avcc, fc.nat()).map(([c, dts]): FlvTag => ({ bytes: tag(9, dts, concat([Uint8Array.of(0x17, 0, 0, 0, 0), c.record])), item: { kind: "config", config: { lengthSize: 4, sps: c.sps, pps: c.pps } } })),
  fc
    .tuple(fc.boolean(), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -0x800000, max: 0x7fffff }), fc.uint8Array({ minLength: 1, maxLength: 200 }))
    .map(([key, dts, cts, data]): FlvTag => ({
      bytes: tag(9, dts, concat([Uint8Array.of(key ? 0x17 : 0x27, 1, ...u24(cts & 0xffffff)), data])),
      item: { kind: "frame", key, dtsMs: dts, ptsMs: dts + cts, data },
    })),
  // Audio, script data, an empty config (ffmpeg without global header), end of sequence: no item.
  fc.tuple(fc.constantFrom(8, 18), fc.uint8Array({ maxLength: 64 })).map(([type, body]): FlvTag => ({ bytes: tag(type, 0, body), item: undefined })),
  fc.constantFrom<FlvTag>({ bytes: tag(9, 0, Uint8Array.of(0x17, 0, 0, 0, 0)), item: undefined }, { bytes: tag(9, 0, Uint8Array.of(0x17, 2, 0, 0, 0)), item: undefined }),
);

const itemKey = (i: FlvItem) =>
  i.kind === "config" ? `config ${i.config.lengthSize} ${i.config.sps.map(hex)} ${i.config.pps.map(hex)}` : `frame ${i.key} ${i.dtsMs} ${i.ptsMs} ${hex(i.data)}`;

/** Feeds `chunks` in turn; returns the items, or the H264Error that stopped it (anything else fails the property). */
function demux(chunks: Uint8Array[]): { items: FlvItem[]; error?: H264Error } {
  const d = new FlvDemuxer();
  const items: FlvItem[] = [];
  for (const c of chunks) {
    try {
      items.push(...d.push(c));
    } catch (err) {
      if (!isH264Error(err)) throw err;
      return { items, error: err as H264Error };
    }
  }
  return { items };
}

// --- JPEG -----------------------------------------------------------------------------------

/** A JPEG as ffmpeg's mjpeg writes it: SOI, a SOF0 with its size, entropy-coded data (FF only as FF 00), EOI. */
const jpeg = fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 4096 }), fc.uint8Array({ maxLength: 300 })).map(([width, height, data]) => {
  const scan = [...data].flatMap((b) => (b === 0xff ? [0xff, 0x00] : [b]));
  const sof = [0xff, 0xc0, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0];
  return { width, height, bytes: Uint8Array.from([0xff, 0xd8, ...sof, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, ...scan, 0xff, 0xd9]) };
});
/** Whatever a pipe might carry between images: no 0xFF, so no marker. */
const junk = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x === 0xff ? 0xfe : x)));

const splitterBuffer = (s: JpegSplitter) => (s as unknown as { buf: Buffer }).buf.length;

export const cameraStreamFamilies: BadInputFamily[] = [
  {
    id: "bad-input-flv-demuxer",
    family: "camera FLV demuxer (ffmpeg's H.264 stream), chunks cut anywhere",
    outcome: "H264Error for anything that is not H.264 in FLV, never another error; a valid stream gives the same items however it is cut",
    properties: [
      prop("a valid stream cut anywhere gives exactly the items it was written from", 200, fc.tuple(fc.array(flvTag, { maxLength: 10 }), cuts), ([tags, at]) => {
        const stream = concat([FLV_HEADER, ...tags.map((t) => t.bytes)]);
        const want = tags.flatMap((t) => (t.item === undefined ? [] : [itemKey(t.item)]));
        const got = demux(chunked(stream, at));
        return got.error === undefined && got.items.map(itemKey).join("|") === want.join("|");
      }),
      prop("arbitrary bytes cut anywhere: items or H264Error", 300, fc.tuple(fc.oneof(bytes(400), bytes(300).map((b) => concat([FLV_HEADER, b]))), cuts), ([stream, at]) => {
        demux(chunked(stream, at));
      }),
      prop("a valid stream with bytes flipped: no misread item before the damage, then items or H264Error", 300, fc.tuple(fc.array(flvTag, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), cuts), ([tags, flips, at]) => {
        const stream = concat([FLV_HEADER, ...tags.map((t) => t.bytes)]);
        const damaged = stream.slice();
        for (const [pos, v] of flips) damaged[pos % damaged.length] = v;
        const first = Math.min(...flips.map(([pos]) => pos % damaged.length));
        // Items of the tags wholly before the first damaged byte come out unchanged (those the
        // failing chunk had finished are dropped with it: the camera restarts its encoder then).
        let end = FLV_HEADER.length;
        const intact: string[] = [];
        for (const t of tags) {
          end += t.bytes.length;
          if (end > first) break;
          if (t.item !== undefined) intact.push(itemKey(t.item));
        }
        const got = demux(chunked(damaged, at)).items.map(itemKey);
        return got.slice(0, intact.length).every((k, i) => intact[i] === k);
      }),
    ],
  },
  {
    id: "bad-input-jpeg-splitter",
    family: "camera JPEG splitter and size reader (ffmpeg's stills), chunks cut anywhere",
    outcome: "never throws; the same images however the stream is cut; memory held stays under its bound; jpegSize reads a SOF or says undefined",
    properties: [
      prop("images with junk between, cut anywhere, come out whole and in order", 200, fc.tuple(fc.array(fc.tuple(junk, jpeg), { maxLength: 6 }), junk, cuts), ([parts, tail, at]) => {
        const stream = concat([...parts.flatMap(([j, img]) => [j, img.bytes]), tail]);
        const s = new JpegSplitter();
        const got = chunked(stream, at).flatMap((c) => s.push(c));
        return got.map(hex).join("|") === parts.map(([, img]) => hex(img.bytes)).join("|") && got.every((g, i) => {
          const size = jpegSize(g);
          const img = parts[i]?.[1];
          return size?.width === img?.width && size?.height === img?.height;
        });
      }),
      prop("arbitrary bytes cut anywhere: images that start FF D8 FF and end FF D9, and a bounded buffer", 300, fc.tuple(bytes(600), cuts, fc.integer({ min: 4, max: 128 })), ([stream, at, maxBytes]) => {
        const s = new JpegSplitter(maxBytes);
        for (const c of chunked(stream, at)) {
          for (const img of s.push(c)) if (hex(img.subarray(0, 3)) !== "ffd8ff" || hex(img.subarray(-2)) !== "ffd9") return false;
          if (splitterBuffer(s) > maxBytes) return false;
        }
        return true;
      }),
      prop("jpegSize of arbitrary bytes: undefined or a size from a SOF marker", 400, fc.oneof(bytes(200), jpeg.map((j) => j.bytes)), (b) => {
        const size = onlyThrows(() => jpegSize(b), () => false);
        return size === undefined || (size.width <= 0xffff && size.height <= 0xffff);
      }),
    ],
  },
];
