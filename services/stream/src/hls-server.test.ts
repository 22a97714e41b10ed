import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry, createLogger } from "@picket/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { HlsServer, parseHlsPath } from "./hls-server.js";
import { syntheticVideo } from "./testing/synthetic-video.js";
import type { FrameListener } from "./video-sources.js";

describe("parseHlsPath", () => {
  it("reads device, profile and file", () => {
    expect(parseHlsPath("/hls/pi/high/index.m3u8?_HLS_msn=3")).toEqual({ ok: true, device: "pi", profile: "high", file: { kind: "playlist" } });
    expect(parseHlsPath("/hls/p%69/low/init.mp4")).toEqual({ ok: true, device: "pi", profile: "low", file: { kind: "init" } });
    expect(parseHlsPath("/hls/pi/high/seg17.m4s")).toMatchObject({ file: { kind: "segment", msn: 17 } });
    expect(parseHlsPath("/hls/pi/high/seg17.3.m4s")).toMatchObject({ file: { kind: "part", msn: 17, index: 3 } });
  });

  it("leaves other paths alone", () => {
    for (const url of [undefined, "/", "/live/pi/high", "/hlsx/pi/high/index.m3u8", "/healthz"]) expect(parseHlsPath(url)).toBeUndefined();
  });

  it.each(["/hls/pi.local/high/index.m3u8", "/hls/pi/HIGH/index.m3u8", "/hls/..%2F..%2Fetc/high/index.m3u8", "/hls/%zz/high/index.m3u8", "/hls/*/high/init.mp4"])("answers 400 for the names in %j", (url) => {
    expect(parseHlsPath(url)).toMatchObject({ ok: false, status: 400 });
  });

  it.each(["/hls/pi/high", "/hls/pi/high/", "/hls/pi/high/a/index.m3u8", "/hls/pi/high/..", "/hls/pi/high/seg.m4s", "/hls/pi/high/seg1.2.3.m4s", "/hls/pi/high/index.m3u"])("answers 404 for %j", (url) => {
    expect(parseHlsPath(url)).toMatchObject({ ok: false, status: 404 });
  });
});

/** The HLS handler on a loopback HTTP server, fed synthetic frames instead of the bus. */
async function harness(opts: { idleMs?: number; startTimeoutMs?: number } = {}) {
  const listeners = new Map<string, FrameListener>();
  const detached: string[] = [];
  const sources = {
    attach(device: string, profile: string, listener: FrameListener) {
      listeners.set(`${device}/${profile}`, listener);
      return () => {
        listeners.delete(`${device}/${profile}`);
        detached.push(`${device}/${profile}`);
      };
    },
  };
  const metrics = { registry: new Registry(), badMessages: new Counter({ name: "bad", help: "bad", labelNames: ["subject"] as const, registers: [] }) };
  const hls = new HlsServer({ sources, log: createLogger({ service: "test", device: "test", level: "silent" }), metrics, idleMs: opts.idleMs ?? 60_000, startTimeoutMs: opts.startTimeoutMs ?? 10_000, sourceTimeoutMs: 60_000 });
  const server = createServer((req, res) => {
    if (!hls.handle(req, res)) res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ server, hls });
  const video = syntheticVideo({ fps: 25, gop: 50 });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (file: string) => `${origin}/hls/cam/high/${file}`,
    listeners,
    detached,
    feed(frames: number) {
      const listener = listeners.get("cam/high");
      if (listener === undefined) throw new Error("nothing attached");
      for (let i = 0; i < frames; i++) listener(video.next());
    },
  };
}

const servers: { server: Server; hls: HlsServer }[] = [];
afterEach(async () => {
  for (const { server, hls } of servers.splice(0)) {
    hls.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** A request that records when it is answered. */
function pending(url: string) {
  const state = { settled: false };
  const response = fetch(url).then(async (r) => {
    state.settled = true;
    return { status: r.status, type: r.headers.get("content-type"), cache: r.headers.get("cache-control"), body: new Uint8Array(await r.arrayBuffer()) };
  });
  return { state, response };
}

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe("HlsServer", () => {
  it("answers 400, 404 and 405 without packaging anything, and leaves other paths to the caller", async () => {
    const h = await harness();
    expect((await fetch(`${h.origin}/hls/bad.name/high/index.m3u8`)).status).toBe(400);
    expect((await fetch(h.url("video.mp4"))).status).toBe(404);
    expect((await fetch(h.url("index.m3u8"), { method: "POST" })).status).toBe(405);
    expect((await fetch(`${h.origin}/other/cam/high/index.m3u8`)).status).toBe(418);
    expect(h.listeners.size).toBe(0);
  });

  it("holds the first playlist request until three segments are complete, then serves playlist, init, segment and parts", async () => {
    const h = await harness();
    const first = pending(h.url("index.m3u8"));
    await until("the subscription", () => h.listeners.size === 1);
    h.feed(130);
    await new Promise((r) => setTimeout(r, 100));
    expect(first.state.settled).toBe(false);
    h.feed(21); // the keyframe that completes the third segment
    const playlist = await first.response;
    expect(playlist).toMatchObject({ status: 200, type: "application/vnd.apple.mpegurl", cache: "no-cache" });
    const lines = text(playlist.body).split("\n");
    const seg = lines.find((l) => /^seg\d+\.m4s$/.test(l)) as string;
    const part = (lines.find((l) => l.startsWith("#EXT-X-PART:")) as string).replace(/.*URI="([^"]+)".*/, "$1");

    const init = await fetch(h.url("init.mp4"));
    expect([init.status, init.headers.get("content-type"), init.headers.get("cache-control")]).toEqual([200, "video/mp4", "no-cache"]);
    const segment = await fetch(h.url(seg));
    expect([segment.status, segment.headers.get("content-type")]).toEqual([200, "video/mp4"]);
    const partBytes = new Uint8Array(await (await fetch(h.url(part))).arrayBuffer());
    // A segment is its parts joined: it starts with the first.
    expect(Buffer.from(new Uint8Array(await segment.arrayBuffer()).subarray(0, partBytes.length)).equals(Buffer.from(partBytes))).toBe(true);
    expect((await fetch(h.url("seg1.m4s"))).status).toBe(404);
  });

  it("holds a blocking playlist reload until the part asked for exists", async () => {
    const h = await harness();
    const first = pending(h.url("index.m3u8"));
    await until("the subscription", () => h.listeners.size === 1);
    h.feed(151);
    const hint = /PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.(\d+)\.m4s"/.exec(text((await first.response).body)) as RegExpExecArray;
    const [msn, part] = [Number(hint[1]), Number(hint[2])];
    const reload = pending(h.url(`index.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`));
    const hinted = pending(h.url(`seg${msn}.${part}.m4s`));
    await new Promise((r) => setTimeout(r, 100));
    expect(reload.state.settled).toBe(false);
    expect(hinted.state.settled).toBe(false);
    h.feed(13); // the part's 12 frames and the one that closes it
    const answered = await reload.response;
    expect(answered.status).toBe(200);
    expect(text(answered.body)).toContain(`URI="seg${msn}.${part}.m4s",INDEPENDENT=YES`);
    expect((await hinted.response).status).toBe(200);
  });

  it("answers 404 for a hinted part that never comes because its segment ended, and 400 for reloads it cannot serve", async () => {
    const h = await harness();
    const first = pending(h.url("index.m3u8"));
    await until("the subscription", () => h.listeners.size === 1);
    h.feed(151 + 48); // the fourth segment has four parts and a fifth being filled
    await first.response;
    const playlist = await (await fetch(h.url("index.m3u8"))).text();
    const msn = Number(/PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.4\.m4s"/.exec(playlist)?.[1]);
    const sixth = pending(h.url(`seg${msn}.5.m4s`));
    await new Promise((r) => setTimeout(r, 100));
    expect(sixth.state.settled).toBe(false);
    h.feed(2); // the fifth part's last frame, then a keyframe: the segment ends with five parts
    expect((await sixth.response).status).toBe(404);
    expect((await fetch(h.url(`index.m3u8?_HLS_msn=${msn + 5}`))).status).toBe(400);
    expect((await fetch(h.url("index.m3u8?_HLS_part=1"))).status).toBe(400);
    expect((await fetch(h.url("index.m3u8?_HLS_msn=x"))).status).toBe(400);
  });

  it("answers 503 naming the stream when no video comes in time", async () => {
    const h = await harness({ startTimeoutMs: 200 });
    const r = await fetch(h.url("index.m3u8"));
    expect(r.status).toBe(503);
    expect(await r.text()).toMatch(/no video from cam\/high within/);
  });

  it("stops packaging after the idle time, but not while a request is held", async () => {
    const h = await harness({ idleMs: 150, startTimeoutMs: 5_000 });
    const held = pending(h.url("index.m3u8"));
    await until("the subscription", () => h.listeners.size === 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(h.detached).toEqual([]);
    h.feed(151);
    expect((await held.response).status).toBe(200);
    await until("the release", () => h.detached.length === 1);
    expect(h.detached).toEqual(["cam/high"]);
    expect(h.listeners.size).toBe(0);
  });
});
