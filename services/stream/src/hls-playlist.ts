import type { HlsPackager } from "./hls-packager.js";

/** URIs of a stream's files, relative to its playlist. */
export const hlsUri = {
  init: (version: number) => (version === 0 ? "init.mp4" : `init.mp4?v=${version}`),
  segment: (msn: number) => `seg${msn}.m4s`,
  part: (msn: number, index: number) => `seg${msn}.${index}.m4s`,
};

/**
 * How far behind the newest part an LL-HLS player stays, in part targets: RFC 8216bis's
 * minimum, 2 (1 s). Parts come from memory as soon as their last frame is in, well within
 * that, and every second here is a second of delay for the viewer.
 */
const PART_HOLD_BACK_PARTS = 2;
/** Parts are listed for the segments in this many target durations from the end of the playlist. */
const PARTS_LISTED_TARGETS = 3;

const seconds = (s: number) => s.toFixed(5).replace(/\.?0+$/, "");

type PlaylistSource = Pick<HlsPackager, "segments" | "targetDurationS" | "partTargetS" | "initVersion" | "discontinuitySequence" | "nextPart">;

/**
 * The LL-HLS media playlist of a packager's window (RFC 8216bis): complete segments with
 * their duration and capture time, the parts of the newest ones (and of the segment being
 * filled), and a preload hint for the part to come. Version 6 is what EXT-X-MAP without
 * I-frames-only needs; the low-latency tags need no higher version.
 */
export function renderPlaylist(p: PlaylistSource): string {
  const segs = p.segments;
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:6",
    `#EXT-X-TARGETDURATION:${p.targetDurationS}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(p.partTargetS)}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(p.partTargetS * PART_HOLD_BACK_PARTS)}`,
    `#EXT-X-MEDIA-SEQUENCE:${segs[0]?.msn ?? p.nextPart.msn}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`,
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-MAP:URI="${hlsUri.init(p.initVersion)}"`,
  ];
  // Parts of the segments near the live edge: walk back from the end.
  let fromEnd = 0;
  let firstWithParts = segs.length;
  for (let i = segs.length - 1; i >= 0 && fromEnd < PARTS_LISTED_TARGETS * p.targetDurationS; i--) {
    firstWithParts = i;
    fromEnd += (segs[i]?.parts ?? []).reduce((n, part) => n + part.durationS, 0);
  }
  for (const [i, seg] of segs.entries()) {
    if (seg.parts.length === 0) continue; // just opened: nothing to date yet
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(seg.startedMs).toISOString()}`);
    if (i >= firstWithParts) {
      for (const part of seg.parts) {
        lines.push(`#EXT-X-PART:DURATION=${seconds(part.durationS)},URI="${hlsUri.part(seg.msn, part.index)}"${part.independent ? ",INDEPENDENT=YES" : ""}`);
      }
    }
    if (seg.complete) lines.push(`#EXTINF:${seconds(seg.durationS)},`, hlsUri.segment(seg.msn));
  }
  const next = p.nextPart;
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hlsUri.part(next.msn, next.index)}"`);
  return `${lines.join("\n")}\n`;
}

/**
 * The playlist with `token` added to every URI it lists (media lines and `URI="…"`
 * attributes), so a player given a tokened playlist URL fetches everything with it.
 */
export function withToken(playlist: string, token: string | null): string {
  if (token === null || token === "") return playlist;
  const q = `token=${encodeURIComponent(token)}`;
  const add = (uri: string) => `${uri}${uri.includes("?") ? "&" : "?"}${q}`;
  return playlist
    .split("\n")
    .map((line) => (line === "" ? line : line.startsWith("#") ? line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${add(uri)}"`) : add(line)))
    .join("\n");
}
