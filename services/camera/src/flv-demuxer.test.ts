import { describe, expect, it } from "vitest";
import { FlvDemuxer, type FlvItem } from "./flv-demuxer.js";
import { H264Error } from "./h264.js";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));
/** libx264's 720p constrained-baseline SPS and PPS. */
const SPS = hex("6742c01f da014016 ec044000 00030040 00000ca3 c60ca8");
const PPS = hex("68ce0fc8");
const AVCC = Uint8Array.from([1, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0, SPS.length, ...SPS, 1, 0, PPS.length, ...PPS]);

function flvHeader(dataOffset = 9): number[] {
  const extra = Array.from({ length: Math.max(0, dataOffset - 9) }, () => 0);
  return [0x46, 0x4c, 0x56, 1, 0x05, dataOffset >>> 24, (dataOffset >> 16) & 0xff, (dataOffset >> 8) & 0xff, dataOffset & 0xff, ...extra, 0, 0, 0, 0];
}

function tag(type: number, ts: number, body: ArrayLike<number>): number[] {
  const size = body.length;
  const total = 11 + size;
  return [
    type, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff,
    (ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff, (ts >>> 24) & 0xff,
    0, 0, 0,
    ...Array.from(body),
    total >>> 24, (total >> 16) & 0xff, (total >> 8) & 0xff, total & 0xff,
  ];
}

function videoTag(ts: number, opts: { key?: boolean; packetType: number; cts?: number; codec?: number }, payload: ArrayLike<number>): number[] {
  const cts = (opts.cts ?? 0) & 0xffffff;
  const first = ((opts.key === true ? 1 : 2) << 4) | (opts.codec ?? 7);
  return tag(9, ts, [first, opts.packetType, cts >> 16, (cts >> 8) & 0xff, cts & 0xff, ...Array.from(payload)]);
}

const keyFrame = [0, 0, 0, 3, 0x65, 0x88, 0x84];
const deltaFrame = [0, 0, 0, 2, 0x41, 0x9a];

/** A stream as ffmpeg writes it, plus the things it may also contain: audio, metadata, an empty config, end of sequence. */
const stream = Uint8Array.from([
  ...flvHeader(),
  ...tag(18, 0, [2, 0, 10, ...new TextEncoder().encode("onMetaData")]),
  ...videoTag(0, { key: true, packetType: 0 }, []),
  ...videoTag(0, { key: true, packetType: 0 }, AVCC),
  ...tag(8, 0, [0xaf, 1, 1, 2, 3]),
  ...videoTag(0, { key: true, packetType: 1, cts: 80 }, keyFrame),
  ...videoTag(40, { packetType: 1, cts: -40 }, deltaFrame),
  ...videoTag(0x01234567, { packetType: 1 }, deltaFrame),
  ...videoTag(80, { packetType: 2 }, []),
]);

const expected: FlvItem[] = [
  { kind: "config", config: { lengthSize: 4, sps: [SPS], pps: [PPS] } },
  { kind: "frame", key: true, dtsMs: 0, ptsMs: 80, data: Uint8Array.from(keyFrame) },
  { kind: "frame", key: false, dtsMs: 40, ptsMs: 0, data: Uint8Array.from(deltaFrame) },
  { kind: "frame", key: false, dtsMs: 0x01234567, ptsMs: 0x01234567, data: Uint8Array.from(deltaFrame) },
];

/** Items with their bytes as plain Uint8Arrays, so they compare by content whatever view the demuxer returns. */
function plain(item: FlvItem): FlvItem {
  const u8 = (b: Uint8Array) => Uint8Array.from(b);
  if (item.kind === "frame") return { ...item, data: u8(item.data) };
  return { kind: "config", config: { ...item.config, sps: item.config.sps.map(u8), pps: item.config.pps.map(u8) } };
}

function feed(chunks: Uint8Array[]): FlvItem[] {
  const demuxer = new FlvDemuxer();
  return chunks.flatMap((c) => demuxer.push(c)).map(plain);
}

describe("FlvDemuxer", () => {
  it("yields the decoder config and frames with their times, skipping other tags", () => {
    expect(feed([stream])).toEqual(expected);
  });

  it("yields the same items wherever the stream is split", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(feed([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
  });

  it("yields the same items fed one byte at a time", () => {
    expect(feed(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("yields nothing until a tag is complete", () => {
    const demuxer = new FlvDemuxer();
    const header = flvHeader().length;
    expect(demuxer.push(stream.subarray(0, header + 11))).toEqual([]);
  });

  it("skips a longer header as its data offset says", () => {
    const s = Uint8Array.from([...flvHeader(13), ...videoTag(0, { key: true, packetType: 1 }, keyFrame)]);
    expect(feed([s])).toEqual([{ kind: "frame", key: true, dtsMs: 0, ptsMs: 0, data: Uint8Array.from(keyFrame) }]);
  });

  it("rejects a stream that is not FLV", () => {
    const bad = stream.slice();
    bad[2] = 0x58;
    expect(() => feed([bad])).toThrow(H264Error);
    expect(() => feed([new TextEncoder().encode("<html><body>not video</body></html>")])).toThrow(H264Error);
  });

  it("rejects a header size out of range", () => {
    expect(() => feed([Uint8Array.from([...flvHeader(5), 0, 0, 0, 0])])).toThrow(H264Error);
    const huge = Uint8Array.from(flvHeader());
    huge.set([0, 0, 0x10, 0], 5);
    expect(() => feed([huge])).toThrow(H264Error);
  });

  it("rejects video that is not H.264", () => {
    expect(() => feed([Uint8Array.from([...flvHeader(), ...videoTag(0, { key: true, packetType: 1, codec: 2 }, keyFrame)])])).toThrow(/not H\.264/);
  });

  it("rejects an oversized tag from its header alone", () => {
    const s = Uint8Array.from([...flvHeader(), 9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => feed([s])).toThrow(H264Error);
  });

  it("waits for the rest of a large but plausible tag instead of rejecting it", () => {
    const size = 4 * 1024 * 1024;
    const s = Uint8Array.from([...flvHeader(), 9, size >> 16, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(feed([s])).toEqual([]);
  });

  it("rejects a video tag too short for its header and a corrupt decoder config", () => {
    expect(() => feed([Uint8Array.from([...flvHeader(), ...tag(9, 0, [0x17, 1])])])).toThrow(H264Error);
    expect(() => feed([Uint8Array.from([...flvHeader(), ...videoTag(0, { key: true, packetType: 0 }, [1, 0x42, 0xc0])])])).toThrow(H264Error);
  });
});
