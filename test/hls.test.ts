import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readVideoHeaders, subjects } from "@picket/contracts";
import { readFragments } from "@picket/contracts/testing";
import type { NatsConnection } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { NalType, nalType, splitAnnexB } from "../services/camera/src/h264.js";
import { testBus } from "./support/bus.js";
import { freePort, waitFor } from "./support/ports.js";
import { login } from "./support/web-session.js";
import { startStack, type Stack } from "./support/stack.js";

const run = promisify(execFile);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function hlsStack(env: Record<string, string> = {}): Promise<{ stack: Stack; web: string; stream: string; nc: NatsConnection }> {
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  const stack = await startStack({
    services: ["camera", "stream", "web"],
    env: { PICKET_HTTP_PORT: String(httpPort), PICKET_HTTP_HOST: "127.0.0.1", PICKET_STREAM_PORT: String(streamPort), PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`, ...env },
  });
  cleanups.push(() => stack.stop());
  const nc = await testBus(stack.nats.url);
  cleanups.push(() => nc.close());
  const web = `http://127.0.0.1:${httpPort}`;
  cookie = (await login(web)).cookie;
  return { stack, web, stream: `http://127.0.0.1:${streamPort}`, nc };
}

/** The session of the newest stack's web (HLS on the web port needs a login, as the page has). */
let cookie = "";
const get = (url: string) => fetch(url, { headers: { cookie } });

/** A frame the camera published, with the bytes an MP4 sample of it holds. */
interface Published {
  seq: number;
  key: boolean;
  capturedUs: number;
  sample: string;
}

/** Records every frame of `device`'s high profile from now on, in order. */
function recordBus(nc: NatsConnection, device: string): Published[] {
  const frames: Published[] = [];
  const sub = nc.subscribe(subjects.video(device, "high"), {
    callback: (err, msg) => {
      if (err !== null) return;
      const meta = readVideoHeaders(msg.headers, msg.subject);
      if (meta.part !== undefined) throw new Error("the test expects whole access units on the bus");
      frames.push({ seq: meta.seq, key: meta.key, capturedUs: meta.capturedUs, sample: sampleKey(msg.data) });
    },
  });
  cleanups.push(async () => sub.unsubscribe());
  return frames;
}

const NOT_IN_SAMPLES = new Set<number>([NalType.aud, NalType.sps, NalType.pps]);

/** An access unit as an MP4 sample holds it: no delimiters or parameter sets, 4-byte lengths. */
function sampleKey(annexB: Uint8Array): string {
  const nals = splitAnnexB(annexB).filter((n) => !NOT_IN_SAMPLES.has(nalType(n)));
  return Buffer.concat(
    nals.flatMap((n) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(n.length);
      return [length, n];
    }),
  ).toString("base64");
}

/**
 * The published frames that `samples` are, in order: the newest run of consecutive bus frames
 * whose bytes equal them. (A still picture makes identical frames a few hundred ms apart, so
 * one sample alone may match several frames; a run of them does not.) Throws when none fits.
 */
function locate(samples: { data: Uint8Array }[], published: Published[]): Published[] {
  const keys = samples.map((s) => Buffer.from(s.data).toString("base64"));
  for (let start = published.length - keys.length; start >= 0; start--) {
    if (keys.every((k, i) => published[start + i]?.sample === k)) return published.slice(start, start + keys.length);
  }
  throw new Error(`no run of ${keys.length} published frames matches the samples`);
}

interface Playlist {
  tags: string[];
  segments: { msn: number; uri: string; durationS: number }[];
  parts: { msn: number; index: number; uri: string; durationS: number; independent: boolean }[];
  hint: { msn: number; index: number };
}

/** Reads what the tests need from a media playlist (and keeps every tag line for checks). */
function parsePlaylist(text: string): Playlist {
  const lines = text.trimEnd().split("\n");
  const pl: Playlist = { tags: lines.filter((l) => l.startsWith("#")), segments: [], parts: [], hint: { msn: -1, index: -1 } };
  let duration = 0;
  for (const line of lines) {
    if (line.startsWith("#EXTINF:")) {
      duration = Number.parseFloat(line.slice(8));
    } else if (line.startsWith("#EXT-X-PART:")) {
      const [, uri, msn, index] = /URI="(seg(\d+)\.(\d+)\.m4s)"/.exec(line) ?? [];
      const durationS = Number(/DURATION=([\d.]+)/.exec(line)?.[1]);
      pl.parts.push({ msn: Number(msn), index: Number(index), uri: uri as string, durationS, independent: line.includes("INDEPENDENT=YES") });
    } else if (line.startsWith("#EXT-X-PRELOAD-HINT:")) {
      const [, msn, index] = /URI="seg(\d+)\.(\d+)\.m4s"/.exec(line) ?? [];
      pl.hint = { msn: Number(msn), index: Number(index) };
    } else if (/^seg\d+\.m4s$/.test(line)) {
      pl.segments.push({ msn: Number(line.slice(3, -4)), uri: line, durationS: duration });
    }
  }
  return pl;
}

const bytes = async (url: string) => {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return new Uint8Array(await r.arrayBuffer());
};

describe("HLS", () => {
  it("serves an LL-HLS playlist on the web port that ffprobe plays as 1280x720 H.264", async () => {
    const { stack, web } = await hlsStack();
    const url = `${web}/hls/${stack.device}/high/index.m3u8`;
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const pl = parsePlaylist(await res.text());
    expect(pl.tags.slice(0, 5)).toEqual(["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:2", "#EXT-X-PART-INF:PART-TARGET=0.5", "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1"]);
    expect(pl.tags).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(pl.tags.some((t) => t.startsWith("#EXT-X-MEDIA-SEQUENCE:"))).toBe(true);
    // The camera's GOP is 2 s at 25 fps: a segment per keyframe, parts of at most 0.5 s.
    expect(pl.segments.length).toBeGreaterThanOrEqual(3); // served once players have a place to start
    for (const s of pl.segments) expect(s.durationS).toBeCloseTo(2, 1);
    for (const p of pl.parts) {
      expect(p.durationS).toBeLessThanOrEqual(0.5);
      expect(p.independent).toBe(p.index === 0);
    }
    expect(pl.hint.msn).toBeGreaterThanOrEqual(pl.segments.at(-1)?.msn ?? 0);

    const init = await get(`${web}/hls/${stack.device}/high/init.mp4`);
    expect([init.status, init.headers.get("content-type")]).toEqual([200, "video/mp4"]);
    const seg = await get(`${web}/hls/${stack.device}/high/${pl.segments[0]?.uri}`);
    expect([seg.status, seg.headers.get("content-type")]).toEqual([200, "video/mp4"]);

    const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", "-headers", `Cookie: ${cookie}\r\n`, url], { timeout: 60_000 });
    expect((JSON.parse(stdout) as { streams: unknown[] }).streams).toEqual([{ codec_name: "h264", width: 1280, height: 720 }]);
  });

  it("gives a player that cannot log in (VLC, Home Assistant) a link of its own: ffprobe plays it, a wrong token or another camera's gets nothing", async () => {
    const { stack, web } = await hlsStack();
    const s = await login(web);
    const made = await s.fetch(`/api/devices/${stack.device}/hls-link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ profile: "high", days: 30 }) });
    expect(made.status).toBe(201);
    const { url, expiresAt } = (await made.json()) as { url: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(url).toMatch(new RegExp(`^${web}/hls/${stack.device}/high/index\\.m3u8\\?token=`));
    // No cookie: the token alone opens it, and the playlist names its files with the token.
    const playlist = await (await fetch(url)).text();
    const files = playlist.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/\?token=/);
    const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", url], { timeout: 60_000 });
    expect((JSON.parse(stdout) as { streams: unknown[] }).streams).toEqual([{ codec_name: "h264", width: 1280, height: 720 }]);

    const token = new URL(url).searchParams.get("token") as string;
    expect((await fetch(`${web}/hls/${stack.device}/high/index.m3u8?token=forged${token.slice(6)}`)).status).toBe(401);
    expect((await fetch(`${web}/hls/${stack.device}/low/index.m3u8?token=${encodeURIComponent(token)}`)).status).toBe(401);
    expect((await fetch(`${web}/hls/other-cam/high/index.m3u8?token=${encodeURIComponent(token)}`)).status).toBe(401);
    // Queries that read as a token to one parser and as none to another open nothing.
    for (const q of ["?token?x", "?a=1&token?=x", "?token=", "?token", `?token=${encodeURIComponent(token)}x`]) {
      expect((await fetch(`${web}/hls/${stack.device}/high/index.m3u8${q}`)).status, q).toBe(401);
      expect((await fetch(`${web}/hls/${stack.device}/high/init.mp4${q}`)).status, q).toBe(401);
    }
    // Making one is for admins, and needs the session's CSRF token like every change.
    expect((await fetch(`${web}/api/devices/${stack.device}/hls-link`, { method: "POST", headers: { "content-type": "application/json", cookie: s.cookie }, body: "{}" })).status).toBe(403);
    const tooLong = await s.fetch(`/api/devices/${stack.device}/hls-link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ profile: "high", days: 10_000 }) });
    expect(tooLong.status).toBe(400);
  });

  it("segments decode without errors and hold exactly the frames the camera published, keyframe first", async () => {
    const { stack, web, nc } = await hlsStack();
    const published = recordBus(nc, stack.device);
    const base = `${web}/hls/${stack.device}/high`;
    // Three complete segments after the first one the packager made: that one starts with
    // the camera's current GOP, handed over when the stream subscribed (before this test's
    // own recorder saw those frames).
    const pl = await waitFor(
      "three complete segments after the first",
      async () => {
        const p = parsePlaylist(await (await get(`${base}/index.m3u8`)).text());
        return p.segments.length >= 4 ? p : undefined;
      },
      30_000,
      500,
    );
    const segs = pl.segments.slice(-3);
    const media = [await bytes(`${base}/init.mp4`), ...(await Promise.all(segs.map((s) => bytes(`${base}/${s.uri}`))))];

    const dir = await mkdtemp(join(tmpdir(), "picket-hls-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "joined.mp4");
    await writeFile(file, Buffer.concat(media));
    const decode = await run("ffmpeg", ["-v", "error", "-i", file, "-f", "null", "-"], { timeout: 60_000 });
    expect(decode.stderr).toBe("");
    const probe = await run("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", file]);
    const stream = (JSON.parse(probe.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
    const durationS = segs.reduce((n, s) => n + s.durationS, 0);
    expect(stream).toMatchObject({ codec_name: "h264", width: 1280, height: 720 });
    expect(Math.abs(Number(stream?.nb_read_frames) - durationS * 25)).toBeLessThanOrEqual(2);

    // The samples are a run of frames from the bus, none missing: keyframes where the camera
    // put them, and only there.
    const samples = media.slice(1).flatMap((seg, i) => readFragments(seg).flatMap((f) => f.samples.map((s) => ({ ...s, segment: i }))));
    expect(samples.length).toBe(Number(stream?.nb_read_frames));
    const frames = locate(samples, published);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => (frames[0]?.seq ?? 0) + i));
    expect(samples.map((s) => s.sync)).toEqual(frames.map((f) => f.key));
    const matched = samples.map((s, i) => ({ segment: s.segment, key: frames[i]?.key }));
    expect(matched.filter((m) => m.key).map((m) => m.segment)).toEqual([0, 1, 2]);
    for (const i of [0, 1, 2]) expect(matched.find((m) => m.segment === i)?.key).toBe(true);
  });

  it("holds a blocking playlist reload until the next part exists", async () => {
    const { stack, web, nc } = await hlsStack();
    const published = recordBus(nc, stack.device);
    const base = `${web}/hls/${stack.device}/high`;
    const first = parsePlaylist(await (await get(`${base}/index.m3u8`)).text());
    const { msn, index } = first.hint;
    const asked = Date.now();
    const reload = await get(`${base}/index.m3u8?_HLS_msn=${msn}&_HLS_part=${index}`);
    const answered = Date.now();
    expect(reload.status).toBe(200);
    const next = parsePlaylist(await reload.text());
    const part = next.parts.find((p) => p.msn === msn && p.index === index);
    expect(part, `part ${msn}.${index} in the reloaded playlist`).toBeDefined();
    expect(answered - asked).toBeLessThan(3 * 2 * 1000);
    expect(next.hint).not.toEqual(first.hint);

    // How far behind live the newest part is: capture of its last frame, and of its first,
    // to the blocking reload that announced it returning (all on this machine's clock).
    const samples = readFragments(await bytes(`${base}/${part?.uri}`)).flatMap((f) => f.samples);
    const captured = locate(samples, published).map((f) => f.capturedUs);
    const fromLast = answered - (captured.at(-1) as number) / 1000;
    const fromFirst = answered - (captured[0] as number) / 1000;
    expect(fromLast).toBeGreaterThan(0);
    expect(fromLast).toBeLessThan(2_000);
    console.info(`HLS part ${msn}.${index} (${samples.length} frames, ${part?.durationS} s) available ${Math.round(fromLast)} ms after its last frame was captured, ${Math.round(fromFirst)} ms after its first`);
  });

  it("holds an on-demand camera while HLS is requested and lets it go after the idle time; bad names get 400, a silent camera 503", async () => {
    const { stack, web, stream } = await hlsStack({ PICKET_CAMERA_MODE: "on-demand", PICKET_CAMERA_IDLE_S: "1", PICKET_STREAM_HLS_IDLE_MS: "3000" });
    const camera = stack.get("camera");
    const subscribed = async () => ((await (await fetch(`${stream}/healthz`)).json()) as { subscribed: string[] }).subscribed;
    expect(await subscribed()).toEqual([]);

    // The camera starts for the first request, which is answered once the playlist has three
    // segments; a camera that sends nothing gets a 503 after the start timeout (15 s).
    const silent = get(`${web}/hls/no-such-camera/high/index.m3u8`);
    const res = await get(`${web}/hls/${stack.device}/high/index.m3u8`);
    expect(res.status).toBe(200);
    expect(camera.logs.some((l) => l.msg === "camera wanted; starting it" && JSON.stringify(l.holders).includes("stream-high"))).toBe(true);
    expect(await subscribed()).toContain(subjects.video(stack.device, "high"));
    expect((await silent).status).toBe(503);
    expect(await (await silent).text()).toMatch(/no video from no-such-camera\/high within 15 s/);

    for (const path of ["/hls/..%2F..%2Fetc/high/index.m3u8", "/hls/dev/HIGH!/index.m3u8", "/hls/%zz/high/init.mp4"]) {
      const bad = await get(`${web}${path}`);
      expect(bad.status, path).toBe(400);
    }

    // No requests from here on: the packagers stop, and with them the hold on the camera.
    await waitFor("the stream service to unsubscribe", async () => (await subscribed()).length === 0, 20_000, 250);
    expect(stack.get("stream").logs.some((l) => l.msg === "no HLS requests; stopped packaging")).toBe(true);
    await camera.waitForMsg("no one needs the camera; stopping it", 15_000);
  });
});
