import { decodeLiveFrame, subjects, type LiveControl } from "@picket/contracts";
import type { Browser } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { testBus } from "./support/bus.js";
import { launchChromium } from "./support/chromium.js";
import { freePort, waitFor } from "./support/ports.js";
import { signLiveToken } from "@picket/runtime";
import { ServiceProcess, TEST_LIVE_SECRET, baseEnv, viewerQuery } from "./support/services.js";
import { startStack, type Stack } from "./support/stack.js";
import { login, type WebSession } from "./support/web-session.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function liveStack(env: Record<string, string> = {}): Promise<{ stack: Stack; web: string; stream: string; s: WebSession }> {
  const [httpPort, streamPort] = [await freePort(), await freePort()];
  const stack = await startStack({
    services: ["camera", "stream", "web"],
    env: { PICKET_HTTP_PORT: String(httpPort), PICKET_HTTP_HOST: "127.0.0.1", PICKET_STREAM_PORT: String(streamPort), PICKET_STREAM_URL: `ws://127.0.0.1:${streamPort}`, ...env },
  });
  cleanups.push(() => stack.stop());
  const web = `http://127.0.0.1:${httpPort}`;
  return { stack, web, stream: `http://127.0.0.1:${streamPort}`, s: await login(web) };
}

async function browser(): Promise<Browser> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return b;
}

/** The HTTP status a websocket upgrade was refused with, or "open". */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.terminate();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => undefined);
  });
}

type Frame = ReturnType<typeof decodeLiveFrame>;
interface RawViewer {
  ws: WebSocket;
  controls: LiveControl[];
  frames: Frame[];
  /** Frames and control messages in the order they came. */
  events: ({ control: LiveControl } | { frame: Frame })[];
}

/** A raw viewer socket that records control messages and frames as they arrive. */
function viewer(url: string, headers: Record<string, string> = {}): Promise<RawViewer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const v: RawViewer = { ws, controls: [], frames: [], events: [] };
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) {
        const frame = decodeLiveFrame(new Uint8Array(data));
        v.frames.push(frame);
        v.events.push({ frame });
      } else {
        const control = JSON.parse(data.toString()) as LiveControl;
        v.controls.push(control);
        v.events.push({ control });
      }
    });
    ws.once("open", () => resolve(v));
    ws.once("error", reject);
    cleanups.push(async () => ws.terminate());
  });
}

describe("live view", () => {
  it("lets no one watch from the stream port without the web's token, nor a page of another site through the web", async () => {
    const { stack, web, stream, s } = await liveStack();
    const d = stack.device;
    const ws = stream.replace("http", "ws");
    expect(await upgrade(`${ws}/live/${d}/high`)).toBe(401);
    const expired = `?token=${signLiveToken(TEST_LIVE_SECRET, { device: d, profile: "*", exp: Date.now() - 1, sub: "test" })}`;
    expect(await upgrade(`${ws}/live/${d}/high${expired}`)).toBe(401);
    const forged = `?token=${signLiveToken("not-the-secret-not-the-secret-not-the-secret", { device: d, profile: "*", exp: Date.now() + 60_000 })}`;
    expect(await upgrade(`${ws}/live/${d}/high${forged}`)).toBe(401);
    expect(await upgrade(`${ws}/live/other-camera/high${viewerQuery(d)}`)).toBe(401);
    expect(await upgrade(`${ws}/live/${d}/high${viewerQuery(d)}`)).toBe("open");
    expect((await fetch(`${stream}/hls/${d}/high/index.m3u8`)).status).toBe(401);

    // Through the web: a page of this site is served, another site's page is refused.
    const webWs = web.replace("http", "ws");
    expect(await upgrade(`${webWs}/api/live/${d}/high`)).toBe(401);
    expect(await upgrade(`${webWs}/api/live/${d}/high`, { ...s.wsHeaders(), origin: "http://evil.example" })).toBe(403);
    const v = await viewer(`${webWs}/api/live/${d}/high`, s.wsHeaders());
    await waitFor("frames through the web", () => v.frames.length >= 10 || undefined, 20_000);
    // A tokened HLS playlist lists its files with the token, so a player given the URL fetches them all.
    const playlist = await (await fetch(`${stream}/hls/${d}/high/index.m3u8${viewerQuery(d)}`)).text();
    const uris = playlist.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(uris.length).toBeGreaterThan(0);
    for (const uri of uris) expect(uri).toMatch(/\?token=/);
    expect((await fetch(`${stream}/hls/${d}/high/${uris[0]}`)).status).toBe(200);
  });

  it("keeps the stream port shut without PICKET_LIVE_SECRET too: web and stream share a secret kept in the bus", async () => {
    const { stack, web, stream, s } = await liveStack({ PICKET_LIVE_SECRET: "" });
    expect(await upgrade(`${stream.replace("http", "ws")}/live/${stack.device}/high`)).toBe(401);
    expect(await upgrade(`${stream.replace("http", "ws")}/live/${stack.device}/high${viewerQuery(stack.device)}`)).toBe(401);
    expect((await fetch(`${stream}/hls/${stack.device}/high/index.m3u8`)).status).toBe(401);
    const v = await viewer(`${web.replace("http", "ws")}/api/live/${stack.device}/high`, s.wsHeaders());
    await waitFor("frames through the web", () => v.frames.length >= 5 || undefined, 20_000);
    // Both services restart into the same secret: a link made before still plays.
    const made = await s.fetch(`/api/devices/${stack.device}/hls-link`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ profile: "high", days: 1 }) });
    expect(made.status).toBe(201);
    const { url } = (await made.json()) as { url: string };
    await stack.get("stream").stop();
    const again = new ServiceProcess("stream", { ...baseEnv(stack.nats.url, stack.device), PICKET_LIVE_SECRET: "", PICKET_STREAM_PORT: new URL(stream).port, PICKET_STREAM_HOST: "127.0.0.1" });
    cleanups.push(() => again.stop());
    await again.waitForMsg(/^serving viewers/);
    await waitFor("the link's playlist", async () => (await fetch(url)).status === 200 || undefined, 30_000, 500);
  });

  it("stops a viewer's live socket and event stream when their session ends (logout)", async () => {
    const { stack, web } = await liveStack();
    const other = await login(web);
    const v = await viewer(`${web.replace("http", "ws")}/api/live/${stack.device}/high`, other.wsHeaders());
    await waitFor("frames", () => v.frames.length >= 5 || undefined, 20_000);
    const closed = new Promise<number>((resolve) => v.ws.once("close", (code) => resolve(code)));
    const events = await other.fetch("/api/events/live");
    expect(events.status).toBe(200);
    const ended = (async () => {
      const reader = (events.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();
    expect((await other.fetch("/api/session", { method: "DELETE" })).status).toBe(204);
    expect(await closed).toBe(4401);
    expect(await ended).toContain("event: session-ended");
  });

  it("auto starts a phone on the low profile and a desktop on high; a viewer that keeps falling behind steps down to low", async () => {
    const { stack, web, s } = await liveStack();
    const url = `${web.replace("http", "ws")}/api/live/${stack.device}/auto`;
    const infoOf = (v: { controls: LiveControl[] }) => v.controls.filter((c): c is Extract<LiveControl, { type: "info" }> => c.type === "info").at(-1);
    const phone = await viewer(url, { ...s.wsHeaders(), "user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36" });
    const desktop = await viewer(url, { ...s.wsHeaders(), "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36" });
    await waitFor("frames on both", () => (phone.frames.length > 5 && desktop.frames.length > 5) || undefined, 20_000);
    expect(infoOf(phone)).toMatchObject({ profile: "low", width: 640, height: 360 });
    expect(infoOf(desktop)).toMatchObject({ profile: "high", width: 1280, height: 720 });

    // The desktop viewer acknowledges, then stops (its network holds the frames): skipped. It
    // catches up, then falls behind again: moved to the low profile, from a keyframe.
    const ack = () => desktop.ws.send(JSON.stringify({ type: "ack", seq: (desktop.frames.at(-1) as { seq: number }).seq }));
    ack();
    const from = desktop.frames.length;
    await waitFor("the stream service to stop sending", async () => {
      const n = desktop.frames.length;
      await new Promise((r) => setTimeout(r, 600));
      return (desktop.frames.length === n && n > from) || undefined;
    }, 15_000);
    expect(infoOf(desktop)?.profile).toBe("high");
    ack();
    const resumed = desktop.frames.length;
    await waitFor("frames again after catching up", () => desktop.frames.length > resumed + 3 || undefined, 15_000);
    ack();
    await waitFor("the low profile's description", () => infoOf(desktop)?.profile === "low" || undefined, 15_000);
    const lowInfoAt = desktop.events.findIndex((e) => "control" in e && e.control.type === "info" && e.control.profile === "low");
    const firstLow = desktop.events.slice(lowInfoAt).find((e) => "frame" in e);
    expect(infoOf(desktop)).toMatchObject({ width: 640, height: 360 });
    await waitFor("low frames", () => desktop.events.slice(lowInfoAt).filter((e) => "frame" in e).length > 5 || undefined, 15_000);
    expect(firstLow === undefined || ("frame" in firstLow && firstLow.frame.key)).toBe(true);
    await stack.get("stream").waitForLog((l) => l.msg === "auto profile changed" && l.from === "high" && l.to === "low");
  });

  it("plays in Chromium through WebCodecs: at least 50 frames decoded in 5 s and the picture changes", async () => {
    const { stack, web, s } = await liveStack();
    const page = await (await browser()).newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await s.addTo(page.context());
    await page.goto(web);
    const decoded = () => page.evaluate((d) => window.picket.players[d]?.stats.decoded ?? 0, stack.device);
    await waitFor("the first decoded frame", async () => (await decoded()) > 0, 20_000);
    const tile = page.locator(`figure[data-device="${stack.device}"] .view`);
    const first = await tile.screenshot();
    const start = await decoded();
    await page.waitForTimeout(5_000);
    const after = await decoded();
    const second = await tile.screenshot();

    expect(after - start).toBeGreaterThanOrEqual(50);
    expect(second.equals(first)).toBe(false);
    expect(await page.evaluate((d) => window.picket.players[d]?.stats.codec, stack.device)).toMatch(/^avc1\./);
    // The page asks for auto; the overlay names the profile the stream chose (a desktop: high).
    expect(await page.evaluate((d) => window.picket.players[d]?.stats.profile, stack.device)).toBe("auto: high");
    expect(errors).toEqual([]);
  });

  it("gives a viewer who joins mid-GOP the cached keyframe at once, not the next keyframe", async () => {
    const { stack, web, s } = await liveStack();
    const url = `${web.replace("http", "ws")}/api/live/${stack.device}/high`;
    // A viewer already watching keeps the channel, and its GOP cache, alive.
    const warm = await viewer(url, s.wsHeaders());
    await waitFor("the warm viewer a few frames past a keyframe", () => {
      const lastKey = warm.frames.findLastIndex((f) => f.key);
      return lastKey >= 0 && warm.frames.length - lastKey > 3;
    }, 15_000);
    const keySeq = (warm.frames.findLast((f) => f.key) as ReturnType<typeof decodeLiveFrame>).seq;
    const liveSeq = (warm.frames.at(-1) as ReturnType<typeof decodeLiveFrame>).seq;

    const v = await viewer(url, s.wsHeaders());
    await waitFor("the new viewer's frames", () => v.frames.length >= 10, 10_000);
    const first = v.frames[0] as ReturnType<typeof decodeLiveFrame>;
    // Keyframes come every 2 s; the one it starts at was published before it joined.
    expect(first.key).toBe(true);
    expect(first.seq).toBe(keySeq);
    expect(first.seq).toBeLessThan(liveSeq);
    expect(v.controls.find((c) => c.type === "info")).toMatchObject({ type: "info", width: 1280, height: 720 });
    const seqs = v.frames.slice(0, 10).map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => first.seq + i));
  });

  it("starts the first viewer of a camera at once from the camera's current keyframe, not the next one", async () => {
    const { stack, web, s } = await liveStack();
    const nc = await testBus(stack.nats.url);
    cleanups.push(() => nc.close());
    // The test watches the bus itself; the stream service has no subscription yet.
    const published: { seq: number; key: boolean }[] = [];
    const sub = nc.subscribe(subjects.video(stack.device, "high"), { callback: (_e, m) => published.push({ seq: Number(m.headers?.get("Picket-Seq")), key: m.headers?.get("Picket-Key") === "1" }) });
    cleanups.push(async () => sub.unsubscribe());
    // Join a few frames after a keyframe, so the next one is most of a GOP away.
    await waitFor("a keyframe and a few frames after it", () => {
      const k = published.findLastIndex((f) => f.key);
      return k >= 0 && published.length - k >= 5 && published.length - k <= 10;
    }, 15_000, 5);
    const keySeq = (published.findLast((f) => f.key) as { seq: number }).seq;
    const joinSeq = (published.at(-1) as { seq: number }).seq;
    const v = await viewer(`${web.replace("http", "ws")}/api/live/${stack.device}/high`, s.wsHeaders());
    await waitFor("the viewer's frames", () => v.frames.length >= 20, 15_000);
    const first = v.frames[0] as ReturnType<typeof decodeLiveFrame>;
    expect(first.key).toBe(true);
    expect(first.seq).toBe(keySeq);
    expect(first.seq).toBeLessThan(joinSeq);
    // Then every frame after it, none twice, none missing, into the live ones.
    const seqs = v.frames.slice(0, 20).map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => keySeq + i));
  });

  it("keeps viewers' sockets open while the camera is gone and resumes when it is back", async () => {
    const { stack, web, s } = await liveStack();
    const v = await viewer(`${web.replace("http", "ws")}/api/live/${stack.device}/high`, s.wsHeaders());
    await waitFor("frames", () => v.frames.length > 5, 15_000);
    const camera = stack.get("camera");
    camera.signal("SIGKILL");
    await camera.exited;
    await waitFor("source-lost status", () => v.controls.some((c) => c.type === "status" && c.state === "source-lost"), 15_000);
    const before = v.frames.length;
    const revived = new ServiceProcess("camera", baseEnv(stack.nats.url, stack.device));
    cleanups.push(() => revived.stop());
    await waitFor("frames again on the same socket", () => v.frames.length > before + 5, 30_000);
    expect(v.ws.readyState).toBe(WebSocket.OPEN);
    const resumed = v.frames.slice(before);
    expect(resumed[0]?.key).toBe(true);
    expect(v.controls.filter((c) => c.type === "status").map((c) => (c as { state: string }).state).slice(-2)).toEqual(["source-lost", "live"]);
  });

  it("refuses a live socket for a malformed device or profile with 400", async () => {
    const { web, s } = await liveStack();
    for (const path of ["/api/live/..%2F..%2Fetc/high", "/api/live/dev/HIGH!", "/api/live/%zz/high"]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${web.replace("http", "ws")}${path}`, { headers: s.wsHeaders() });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => resolve(101));
        ws.on("error", () => undefined);
      });
      expect(status, path).toBe(400);
    }
  });
});
