// Live video's decoders: the NATS video headers and the assembly of split access units, the
// binary live frame and a viewer's messages on the websocket.
import fc from "fast-check";
import { DecodeError } from "../../../libs/contracts/src/decode.js";
import { decodeLiveFrame, encodeLiveFrame, LIVE_HEADER_BYTES } from "../../../libs/contracts/src/live-frame.js";
import { parseViewerMessage } from "../../../libs/contracts/src/live-viewer.js";
import { PartAssembler, VideoHeader, readVideoHeaders, splitPayload, videoHeaders, type VideoMeta } from "../../../libs/contracts/src/video.js";
import { bytes, concat, hex, onlyThrows, prop, type BadInputFamily } from "./family.js";

const SUBJECT = "picket.cam.video.high";

/** A header value: well-formed, at the edges of the integer range, or anything. */
const headerValue = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom("", "0", "1", "-1", "01", " 1", "1e3", "0x10", "9007199254740991", "9007199254740992", "9999999999999999", "99999999999999999", "NaN", "avc1.42c01f", "avc1.64001F", "avc1.xyz", "1/2", "2/2", "0/2", "3/2", "1/1", "10000/10001", "1/0"),
  fc.tuple(fc.nat(10_001), fc.nat(10_001)).map(([i, n]) => `${i}/${n}`),
  fc.string({ unit: "binary", maxLength: 24 }),
);


const validMeta: fc.Arbitrary<VideoMeta> = fc.record({
  seq: fc.maxSafeNat(),
  ptsUs: fc.maxSafeNat(),
  capturedUs: fc.maxSafeNat(),
  key: fc.boolean(),
  codec: fc.stringMatching(/^avc1\.[0-9a-fA-F]{6}$/),
  width: fc.integer({ min: 1, max: 2 ** 31 }),
  height: fc.integer({ min: 1, max: 2 ** 31 }),
});

/** Headers as the camera writes them with a few replaced, removed or added. */
const headerMap = fc
  .tuple(validMeta, fc.dictionary(fc.constantFrom(...Object.values(VideoHeader), "Other"), fc.option(headerValue, { nil: undefined }), { maxKeys: 4 }))
  .map(([meta, changes]) => {
    const h: Record<string, string> = { ...videoHeaders(meta) };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete h[k];
      else h[k] = v;
    }
    return h;
  });

const reader = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? "" });

/**
 * A camera's access units split into parts, some lost on the way: what the assembler sees,
 * and what it must give back (the units that arrived whole) and count as dropped.
 */
const partStream = fc
  .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 })), { maxLength: 10 })
  .map((units) => {
    const sent: { meta: { seq: number; part?: { index: number; count: number } }; data: Uint8Array }[] = [];
    const whole: string[] = [];
    /** Units that lost parts: whether only their tail is missing. */
    const broken: { seq: number; tailOnly: boolean }[] = [];
    units.forEach(([data, n, lost], seq) => {
      const parts = n === 1 ? [data] : splitPayload(data, Math.ceil(data.length / n));
      const count = parts.length;
      if (count === 1) {
        sent.push({ meta: { seq }, data });
        whole.push(hex(data));
        return;
      }
      const arrived = parts.map((_, i) => !lost[i]);
      parts.forEach((p, i) => arrived[i] && sent.push({ meta: { seq, part: { index: i + 1, count } }, data: p }));
      if (arrived.every(Boolean)) whole.push(hex(data));
      else if (arrived.some(Boolean)) broken.push({ seq, tailOnly: arrived.indexOf(false) > arrived.lastIndexOf(true) });
    });
    // Each broken unit counts once, when a part shows the gap or the next unit begins: the
    // missing tail of the last unit anything arrived of is never noticed.
    const lastSeen = sent.at(-1)?.meta.seq;
    const dropped = broken.filter((b) => !(b.seq === lastSeen && b.tailOnly)).length;
    return { sent, whole, dropped };
  });

export const liveFamilies: BadInputFamily[] = [
  {
    id: "bad-input-video-headers",
    family: "video message headers and split access units (readVideoHeaders, PartAssembler)",
    outcome: "DecodeError naming the bad header, or safe integers within range; assembly returns only whole units, counts each lost one once and holds at most its byte limit",
    properties: [
      prop("arbitrary headers", 1_000, headerMap, (h) => {
        const meta = onlyThrows(() => readVideoHeaders(reader(h), SUBJECT), (err) => err instanceof DecodeError && /header Picket-|without headers/.test(err.reason));
        if (meta === undefined) return true;
        const ints = [meta.seq, meta.ptsUs, meta.capturedUs, meta.width, meta.height];
        const partOk = meta.part === undefined || (meta.part.count >= 2 && meta.part.index >= 1 && meta.part.index <= meta.part.count && meta.part.count <= 9_999);
        return ints.every(Number.isSafeInteger) && meta.width >= 1 && meta.height >= 1 && String(meta.seq) === String(Number(h[VideoHeader.seq])) && /^avc1\.[0-9a-fA-F]{6}$/.test(meta.codec) && partOk;
      }),
      prop("headers the camera writes read back", 300, fc.tuple(validMeta, fc.option(fc.integer({ min: 2, max: 9_999 }).chain((count) => fc.record({ index: fc.integer({ min: 1, max: count }), count: fc.constant(count) })), { nil: undefined })), ([meta, part]) => {
        const back = readVideoHeaders(reader(videoHeaders(meta, part)), SUBJECT);
        return JSON.stringify(back) === JSON.stringify(part === undefined ? meta : { ...meta, part });
      }),
      prop("split units with parts lost come back whole or counted as dropped", 500, partStream, ({ sent, whole, dropped }) => {
        const a = new PartAssembler();
        const out = sent.flatMap(({ meta, data }) => {
          const unit = a.push(meta, data);
          return unit === undefined ? [] : [hex(unit)];
        });
        return out.join(",") === whole.join(",") && a.dropped === dropped;
      }),
      prop("arbitrary parts as readVideoHeaders lets them through: no error, bounded memory", 300, fc.tuple(fc.array(fc.tuple(fc.nat(4), fc.integer({ min: 1, max: 9_999 }), fc.integer({ min: 2, max: 9_999 }), fc.nat(300)), { maxLength: 60 }), fc.integer({ min: 1, max: 2_000 })), ([pushes, maxBytes]) => {
        const a = new PartAssembler(maxBytes);
        for (const [seq, index, count, size] of pushes) {
          const unit = a.push({ seq, part: { index: Math.min(index, count), count } }, new Uint8Array(size));
          if (unit !== undefined && unit.length > maxBytes) return false;
          if ((a as unknown as { bytes: number }).bytes > maxBytes) return false;
        }
        return true;
      }),
      prop("splitPayload pieces join back, none over the limit", 300, fc.tuple(bytes(500), fc.integer({ min: 1, max: 600 })), ([data, max]) => {
        const parts = splitPayload(data, max);
        return hex(concat(parts)) === hex(data) && parts.every((p) => p.length <= max) && parts.length === Math.max(1, Math.ceil(data.length / max));
      }),
    ],
  },
  {
    id: "bad-input-live-websocket",
    family: "live websocket frames and viewer messages (decodeLiveFrame, parseViewerMessage)",
    outcome: "RangeError with a reason, or a frame whose data lies inside the message; a viewer's message is an ack with a safe sequence or ignored, never an exception",
    properties: [
      prop("arbitrary binary frames", 500, fc.tuple(fc.oneof(bytes(120), fc.tuple(fc.constantFrom(1), fc.nat(255), fc.nat(0xffff), bytes(100)).map(([v, f, len, rest]) => concat([Uint8Array.of(v, f, len & 0xff, len >> 8), rest]))), fc.nat(8), fc.boolean()), ([b, offset, asBuffer]) => {
        // A view into a larger buffer, as ws hands out, or a bare ArrayBuffer.
        const backing = new Uint8Array(offset + b.length + 3);
        backing.set(b, offset);
        const view = backing.subarray(offset, offset + b.length);
        const input = asBuffer ? view.slice().buffer : view;
        const frame = onlyThrows(() => decodeLiveFrame(input), (err) => err instanceof RangeError && /live frame/.test(err.message));
        if (frame === undefined) return true;
        return b.length >= LIVE_HEADER_BYTES && frame.data.length <= b.length - LIVE_HEADER_BYTES && hex(frame.data) === hex(b.subarray(b.length - frame.data.length)) && Number.isInteger(frame.seq);
      }),
      prop("frames the stream service writes read back", 300, fc.tuple(fc.boolean(), fc.nat(0xffffffff), fc.double(), fc.double(), fc.double(), bytes(64)), ([key, seq, ptsUs, capturedUs, relayedUs, data]) => {
        const f = decodeLiveFrame(encodeLiveFrame({ key, seq, ptsUs, capturedUs, relayedUs }, data));
        return f.key === key && f.seq === seq && Object.is(f.ptsUs, ptsUs) && Object.is(f.capturedUs, capturedUs) && Object.is(f.relayedUs, relayedUs) && hex(f.data) === hex(data);
      }),
      prop("anything a viewer sends", 800, fc.oneof(
        fc.anything(),
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.record({ type: fc.oneof(fc.constant("ack"), fc.string({ maxLength: 5 })), seq: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(2 ** 60), fc.constant(null)) }, { requiredKeys: [] }).map((m) => JSON.stringify(m)),
        fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(s)),
        bytes(300),
      ), (data) => {
        const m = onlyThrows(() => parseViewerMessage(data), () => false);
        return m === undefined || (m.type === "ack" && Number.isSafeInteger(m.seq) && m.seq >= 0);
      }),
      prop("an ack reads back, as text or bytes", 200, fc.tuple(fc.maxSafeNat(), fc.boolean()), ([seq, asBytes]) => {
        const text = JSON.stringify({ type: "ack", seq });
        return parseViewerMessage(asBytes ? new TextEncoder().encode(text) : text)?.seq === seq;
      }),
    ],
  },
];
