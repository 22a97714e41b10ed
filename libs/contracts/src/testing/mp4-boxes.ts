/** Reads back the few fMP4 boxes that fmp4.ts writes, for tests. Throws on anything unexpected. */

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the box body. */
  body: number;
  end: number;
}

/** The boxes in `buf` between `from` and `to`. */
export function boxes(buf: Uint8Array, from = 0, to = buf.length): Box[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Box[] = [];
  let off = from;
  while (off < to) {
    const size = view.getUint32(off);
    if (size < 8 || off + size > to) throw new Error(`bad box size ${size} at ${off}`);
    out.push({ type: String.fromCharCode(...buf.subarray(off + 4, off + 8)), start: off, body: off + 8, end: off + size });
    off += size;
  }
  return out;
}

function child(buf: Uint8Array, parent: Box, type: string): Box {
  const found = boxes(buf, parent.body, parent.end).find((b) => b.type === type);
  if (found === undefined) throw new Error(`no ${type} in ${parent.type}`);
  return found;
}

export interface FragmentSample {
  duration: number;
  size: number;
  sync: boolean;
  data: Uint8Array;
}

export interface Fragment {
  sequence: number;
  baseDecodeTime: number;
  samples: FragmentSample[];
}

/** Every `moof` + `mdat` pair in `buf` (a part, or a segment of several), with each sample's bytes. */
export function readFragments(buf: Uint8Array): Fragment[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const top = boxes(buf);
  const out: Fragment[] = [];
  for (const [i, moof] of top.entries()) {
    if (moof.type !== "moof") continue;
    const mdat = top[i + 1];
    if (mdat?.type !== "mdat") throw new Error("moof not followed by mdat");
    const traf = child(buf, moof, "traf");
    const tfdt = child(buf, traf, "tfdt");
    const trun = child(buf, traf, "trun");
    const version = buf[tfdt.body] as number;
    const baseDecodeTime = version === 1 ? Number(view.getBigUint64(tfdt.body + 4)) : view.getUint32(tfdt.body + 4);
    const count = view.getUint32(trun.body + 4);
    let dataAt = moof.start + view.getInt32(trun.body + 8);
    if (dataAt !== mdat.body) throw new Error(`trun data offset points at ${dataAt}, mdat data starts at ${mdat.body}`);
    const samples: FragmentSample[] = [];
    for (let s = 0; s < count; s++) {
      const at = trun.body + 12 + s * 16;
      const size = view.getUint32(at + 4);
      const flags = view.getUint32(at + 8);
      samples.push({ duration: view.getUint32(at), size, sync: (flags & 0x10000) === 0, data: buf.subarray(dataAt, dataAt + size) });
      dataAt += size;
    }
    if (dataAt !== mdat.end) throw new Error("samples do not fill the mdat");
    out.push({ sequence: view.getUint32(child(buf, moof, "mfhd").body + 4), baseDecodeTime, samples });
  }
  return out;
}
