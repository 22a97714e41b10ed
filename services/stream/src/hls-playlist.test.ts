import { describe, expect, it } from "vitest";
import { HlsPackager } from "./hls-packager.js";
import { renderPlaylist, withToken } from "./hls-playlist.js";
import { syntheticVideo } from "./testing/synthetic-video.js";

function packaged(frames: number, gop = 50): HlsPackager {
  const p = new HlsPackager({ firstMsn: 7 });
  const video = syntheticVideo({ gop, startUs: Date.UTC(2025, 0, 1) * 1000 });
  for (let i = 0; i < frames; i++) p.push(video.next());
  return p;
}

describe("renderPlaylist", () => {
  it("lists segments with their duration and capture time, parts near the live edge, and a preload hint", () => {
    const lines = renderPlaylist(packaged(25 * 8 + 14)).trimEnd().split("\n"); // four segments, and one part of the fifth
    expect(lines.slice(0, 9)).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:6",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-PART-INF:PART-TARGET=0.5",
      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1",
      "#EXT-X-MEDIA-SEQUENCE:7",
      "#EXT-X-DISCONTINUITY-SEQUENCE:0",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      '#EXT-X-MAP:URI="init.mp4"',
    ]);
    const body = lines.slice(9);
    expect(body.filter((l) => !l.startsWith("#"))).toEqual(["seg7.m4s", "seg8.m4s", "seg9.m4s", "seg10.m4s"]);
    expect(body.filter((l) => l.startsWith("#EXTINF"))).toEqual(Array(4).fill("#EXTINF:2,"));
    expect(body[0]).toBe("#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z");
    expect(body).toContain("#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:08.000Z");
    // Parts of the segments that reach into the last three target durations (6 s): 8, 9, 10
    // and the one being filled.
    const parts = body.filter((l) => l.startsWith("#EXT-X-PART:"));
    expect(parts[0]).toBe('#EXT-X-PART:DURATION=0.48,URI="seg8.0.m4s",INDEPENDENT=YES');
    expect(parts).toContain('#EXT-X-PART:DURATION=0.08,URI="seg10.4.m4s"');
    expect(parts.at(-1)).toBe('#EXT-X-PART:DURATION=0.48,URI="seg11.0.m4s",INDEPENDENT=YES');
    expect(parts).toHaveLength(16);
    expect(lines.at(-1)).toBe('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg11.1.m4s"');
  });

  it("versions the init segment's URI after the decoder configuration changed", () => {
    const p = packaged(101);
    const other = syntheticVideo({ gop: 50, sps: Uint8Array.from([0x67, 0x64, 0x00, 0x28, 0xac]) });
    other.skip(150);
    for (let i = 0; i < 51; i++) p.push(other.next());
    const text = renderPlaylist(p);
    expect(text).toContain('#EXT-X-MAP:URI="init.mp4?v=1"');
    expect(text).toContain("#EXT-X-DISCONTINUITY-SEQUENCE:1");
    expect(text).toContain("#EXT-X-MEDIA-SEQUENCE:10");
  });
});

describe("withToken", () => {
  it("adds the viewer's token to every file the playlist lists, and leaves tags alone", () => {
    const playlist = ['#EXTM3U', '#EXT-X-MAP:URI="init.mp4?v=2"', "#EXTINF:2.000,", "seg10.m4s", '#EXT-X-PART:DURATION=0.5,URI="seg11.0.m4s",INDEPENDENT=YES', ""].join("\n");
    expect(withToken(playlist, "a b").split("\n")).toEqual(['#EXTM3U', '#EXT-X-MAP:URI="init.mp4?v=2&token=a%20b"', "#EXTINF:2.000,", "seg10.m4s?token=a%20b", '#EXT-X-PART:DURATION=0.5,URI="seg11.0.m4s?token=a%20b",INDEPENDENT=YES', ""]);
    expect(withToken(playlist, null)).toBe(playlist);
  });
});
