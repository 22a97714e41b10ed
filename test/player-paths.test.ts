import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { decodeLiveFrame } from "@picket/contracts";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { launchChromium } from "./support/chromium.js";
import { freePort, waitFor } from "./support/ports.js";
import { ServiceProcess, baseEnv } from "./support/services.js";
import { login, type WebSession } from "./support/web-session.js";
import { startStack, type Stack } from "./support/stack.js";

// The page's three ways to play a camera, each forced with ?player= against a real stack
// (nats, camera, stream, web) in real headless Chromium. Latency figures are printed, not
// asserted: this machine is shared with other test runs.

type Path = "webcodecs" | "mse" | "hls";
interface Seen {
  stats: { path: string; engine: string; state: string; decoded: number; latencyMs: number; codec: string; width: number; height: number };
  join: { openedAt: number; firstReceivedSeq: number; firstShownSeq: number; firstShownMs: number };
  latencies: number[];
}

const teardown: (() => Promise<unknown>)[] = [];
/** Each test's pages: closed after it, so no two play at once on this 2-core machine. */
const pages: (() => Promise<unknown>)[] = [];
const figures: string[] = [];
let stack: Stack;
let stackEnv: Record<string, string>;
let web: string;
let session: WebSession;
let browser: Browser;

beforeAll(async () => {
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  stackEnv = { PICKET_HTTP_PORT: String(httpPort), PICKET_HTTP_HOST: "127.0.0.1", PICKET_STREAM_PORT: String(streamPort), PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}` };
  stack = await startStack({ services: ["camera", "stream", "web"], env: stackEnv });
  teardown.push(() => stack.stop());
  web = `http://127.0.0.1:${httpPort}`;
  session = await login(web);
  browser = await launchChromium();
  teardown.push(() => browser.close());
});

afterEach(async () => {
  for (const close of pages.splice(0)) await close().catch(() => undefined);
});

afterAll(async () => {
  for (const step of teardown.splice(0).reverse()) await step().catch(() => undefined);
  if (figures.length > 0) console.info(`capture → shown latency per path (ms):\n  ${figures.join("\n  ")}`);
});

const liveUrl = () => `${web.replace("http", "ws")}/api/live/${stack.device}/high`;

async function openPage(query: string, before?: (page: Page) => Promise<void>): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  pages.push(() => context.close());
  await session.addTo(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await before?.(page);
  await page.goto(`${web}/?${query}`);
  return { page, errors };
}

const seen = (page: Page): Promise<Seen | undefined> =>
  page.evaluate((d) => {
    const p = window.picket.players[d];
    return p === undefined ? undefined : { stats: { ...p.stats }, join: { ...p.join }, latencies: p.latencies.slice(-300) };
  }, stack.device);

/** Mean and standard deviation of the grey levels in the middle of a PNG (ffmpeg decodes it). */
function middleGrey(png: Buffer): Promise<{ mean: number; sd: number }> {
  return new Promise((resolve, reject) => {
    const ff = spawn("ffmpeg", ["-v", "error", "-f", "png_pipe", "-i", "pipe:0", "-vf", "crop=iw/2:ih/2,scale=64:36", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]);
    const out: Buffer[] = [];
    let err = "";
    ff.stdout.on("data", (d: Buffer) => out.push(d));
    ff.stderr.on("data", (d: Buffer) => (err += d.toString()));
    ff.stdin.on("error", () => undefined);
    ff.once("error", reject);
    ff.once("exit", (code) => {
      const px = Buffer.concat(out);
      if (code !== 0 || px.length === 0) return reject(new Error(`ffmpeg could not read the screenshot: ${err}`));
      const mean = px.reduce((n, v) => n + v, 0) / px.length;
      resolve({ mean, sd: Math.sqrt(px.reduce((n, v) => n + (v - mean) ** 2, 0) / px.length) });
    });
    ff.stdin.end(png);
  });
}

function summarize(label: string, latencies: number[]): void {
  const sorted = latencies.filter((l) => l > 0).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(0) ?? "?";
  figures.push(`${label}: median ${at(0.5)}, p10 ${at(0.1)}, p90 ${at(0.9)} over ${sorted.length} frames`);
}

/** Plays for a few seconds and checks what a person would: moving frames, the path named, a picture. */
async function expectPlaying(page: Page, errors: string[], path: Path, label: string): Promise<void> {
  // About a second of frames: a player that had to try again (a young playlist) is past that.
  await waitFor(`a second of frames shown through ${label}`, async () => ((await seen(page))?.stats.decoded ?? 0) >= 25, 45_000);
  const view = page.locator(`figure[data-device="${stack.device}"] .view`);
  const before = (await seen(page)) as Seen;
  const first = await view.screenshot();
  await page.waitForTimeout(5_000);
  const after = (await seen(page)) as Seen;
  const second = await view.screenshot();
  const dir = process.env.PICKET_SCREENSHOT_DIR;
  if (dir !== undefined) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `player-${label.replace(/[^a-z0-9.]+/gi, "-")}.png`), await page.screenshot());
  }

  // The test camera makes 25 fps, 125 frames in 5 s; a loaded 2-core machine shows fewer.
  expect(after.stats.decoded - before.stats.decoded).toBeGreaterThanOrEqual(50);
  expect(after.stats.path).toBe(path);
  expect(await page.locator(`figure[data-device="${stack.device}"] .overlay`).textContent()).toContain(`path: ${path}`);
  expect(second.equals(first)).toBe(false);
  const grey = await middleGrey(second);
  expect(grey.mean, "the picture is not black").toBeGreaterThan(20);
  expect(grey.sd, "the picture is not a flat colour").toBeGreaterThan(8);
  expect(after.stats.width).toBe(1280);
  expect(errors).toEqual([]);
  summarize(label, after.latencies.slice(-120));
}

describe("player paths", () => {
  it.each(["webcodecs", "mse"] as const)("plays the live socket through %s", async (path) => {
    const { page, errors } = await openPage(`player=${path}`);
    await expectPlaying(page, errors, path, path);
    expect((await seen(page))?.stats.codec).toMatch(/^avc1\.[0-9A-F]{6}$/i);
  });

  it.each(["native", "hls.js"] as const)("plays HLS with the %s engine", async (engine) => {
    const source = await hlsSource();
    const { page, errors } = await openPage(`player=hls&hls=${engine}`, source.route);
    await expectPlaying(page, errors, "hls", `hls (${engine}, ${source.name})`);
    expect((await seen(page))?.stats.engine).toBe(engine);
    expect(await page.locator(`figure[data-device="${stack.device}"] .overlay`).textContent()).toContain(`path: hls (${engine})`);
  });

  it.each(["webcodecs", "mse"] as const)("shows a viewer who joins mid-GOP a picture at once through %s", async (path) => {
    // A viewer already watching keeps the channel, and its GOP cache, alive; its frames tell
    // where the GOP stood when the page joined. The camera makes a keyframe every 2 s.
    const warm = await rawViewer(liveUrl());
    let page: Page | undefined;
    let join: Seen["join"] | undefined;
    let liveSeqAtJoin = -1;
    for (let attempt = 0; attempt < 3; attempt++) {
      await waitFor("the warm viewer 10 frames past a keyframe", () => {
        const lastKey = warm.frames.findLastIndex((f) => f.key);
        return lastKey >= 0 && warm.frames.length - lastKey >= 10 && warm.frames.length - lastKey < 20;
      }, 15_000, 10);
      ({ page } = await openPage(`player=${path}`));
      const p = page;
      join = await waitFor("the first frame shown", async () => {
        const j = (await seen(p))?.join;
        return j !== undefined && j.firstShownMs >= 0 ? j : undefined;
      }, 15_000);
      const opened = join.openedAt;
      liveSeqAtJoin = warm.frames.findLast((f) => f.at <= opened)?.seq ?? -1;
      // Joining right at a keyframe proves nothing: try again.
      if (join.firstReceivedSeq < liveSeqAtJoin) break;
      await page.context().close();
    }
    const j = join as Seen["join"];
    const nextKey = await waitFor("the next keyframe", () => warm.frames.find((f) => f.key && f.seq > j.firstReceivedSeq), 10_000);

    // It started from the cached keyframe, before the live position when it joined...
    expect(j.firstReceivedSeq).toBeLessThan(liveSeqAtJoin);
    // ...and showed a picture at once, long before the next keyframe came.
    expect(j.firstShownSeq).toBeGreaterThanOrEqual(j.firstReceivedSeq);
    expect(j.firstShownSeq).toBeLessThan(nextKey.seq);
    expect(j.firstShownMs).toBeLessThan(1_000);
    figures.push(`${path} join mid-GOP: first frame shown ${j.firstShownMs} ms after the socket opened (frame ${j.firstShownSeq}; joined at ${liveSeqAtJoin}, GOP from ${j.firstReceivedSeq}, next keyframe ${nextKey.seq})`);
  });

  // Last: it restarts the stack's camera and web service.
  it("plays on by itself on every path after the camera and then the web service restart", async () => {
    const players = await Promise.all(["player=webcodecs", "player=mse", "player=hls&hls=hls.js"].map((q) => openPage(q)));
    const shown = () => Promise.all(players.map(async ({ page }) => (await seen(page))?.stats.decoded ?? 0));
    const playOn = async (what: string, from: number[]) => {
      await waitFor(`every path playing ${what}`, async () => (await shown()).every((n, i) => n >= (from[i] as number) + 25), 60_000, 250);
    };
    await playOn("at first", [0, 0, 0]);

    const camera = stack.get("camera");
    camera.signal("SIGKILL");
    await camera.exited;
    await waitFor("the live paths told the camera is gone", async () => {
      const states = await Promise.all(players.slice(0, 2).map(async ({ page }) => (await seen(page))?.stats.state));
      return states.every((s) => s === "source-lost");
    }, 15_000);
    const revived = new ServiceProcess("camera", { ...baseEnv(stack.nats.url, stack.device), ...stackEnv });
    teardown.push(() => revived.stop());
    await playOn("after the camera restart", await shown());

    // The sockets close and the playlist requests fail until web is back on its port.
    const webService = stack.get("web");
    webService.signal("SIGKILL");
    await webService.exited;
    const during = await shown();
    const webAgain = new ServiceProcess("web", { ...baseEnv(stack.nats.url, stack.device), ...stackEnv });
    teardown.push(() => webAgain.stop());
    await playOn("after the web restart", during);
    for (const { errors } of players) expect(errors).toEqual([]);
  });
});

/** A raw viewer socket that records frames with their arrival time. */
async function rawViewer(url: string): Promise<{ frames: { seq: number; key: boolean; at: number }[] }> {
  const ws = new WebSocket(url, { headers: session.wsHeaders() });
  teardown.push(async () => ws.terminate());
  const v = { frames: [] as { seq: number; key: boolean; at: number }[] };
  ws.on("message", (data: Buffer, isBinary) => {
    if (!isBinary) return;
    const f = decodeLiveFrame(new Uint8Array(data));
    v.frames.push({ seq: f.seq, key: f.key, at: Date.now() });
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return v;
}

interface HlsSource {
  name: string;
  /** Sets up the page before it loads (nothing when web serves HLS itself). */
  route?: (page: Page) => Promise<void>;
}

let ffmpegSource: Promise<HlsSource> | undefined;

/**
 * The web service's own LL-HLS when it serves one; otherwise a live HLS that ffmpeg's hls
 * muxer makes from this camera's frames (fMP4, program date-times from the wall clock at
 * arrival), served from a small static server to which the page's /hls requests are sent.
 */
async function hlsSource(): Promise<HlsSource> {
  const res = await session.fetch(`/hls/${stack.device}/high/index.m3u8`).catch(() => undefined);
  if (res?.ok === true && (await res.text()).startsWith("#EXTM3U")) return { name: "stream service" };
  ffmpegSource ??= startFfmpegHls();
  return ffmpegSource;
}

async function startFfmpegHls(): Promise<HlsSource> {
  const dir = await mkdtemp(join(tmpdir(), "picket-hls-"));
  teardown.push(() => rm(dir, { recursive: true, force: true }));
  const ff: ChildProcess = spawn(
    "ffmpeg",
    ["-v", "error", "-fflags", "+nobuffer", "-use_wallclock_as_timestamps", "1", "-f", "h264", "-i", "pipe:0", "-c", "copy",
      "-f", "hls", "-hls_time", "1", "-hls_list_size", "6", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
      "-hls_flags", "delete_segments+program_date_time+independent_segments+temp_file", join(dir, "index.m3u8")],
    { stdio: ["pipe", "ignore", "inherit"] },
  );
  const exited = new Promise((resolve) => ff.once("exit", resolve));
  teardown.push(async () => {
    // End of input finishes the playlist and ends ffmpeg; a kill in case it does not.
    ff.stdin?.end();
    const killer = setTimeout(() => ff.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  });
  ff.stdin?.on("error", () => undefined);
  const ws = new WebSocket(liveUrl(), { headers: session.wsHeaders() });
  teardown.push(async () => ws.terminate());
  let keyed = false;
  ws.on("message", (data: Buffer, isBinary) => {
    if (!isBinary) return;
    const f = decodeLiveFrame(new Uint8Array(data));
    keyed ||= f.key;
    if (keyed) ff.stdin?.write(f.data);
  });
  const server: Server = createServer((req, res) => {
    const name = basename((req.url ?? "").split("?")[0] ?? "");
    const type = name.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp4";
    const file = createReadStream(join(dir, name));
    file.once("error", () => res.writeHead(404).end());
    file.once("open", () => res.writeHead(200, { "content-type": type, "cache-control": "no-cache" }));
    file.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  teardown.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}`;
  await waitFor("ffmpeg's playlist with three segments", async () => {
    const r = await fetch(`${base}/index.m3u8`);
    return r.ok && ((await r.text()).match(/#EXTINF/g)?.length ?? 0) >= 3;
  }, 30_000, 200);
  return {
    name: "ffmpeg hls muxer",
    route: (page) => page.route(`${web}/hls/**`, (route) => route.continue({ url: `${base}/${basename(new URL(route.request().url()).pathname)}` })),
  };
}
