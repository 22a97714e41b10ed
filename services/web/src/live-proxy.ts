import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { Viewer, decodeCameraNames, LIVE_HEADER_BYTES, parseViewerMessage, startPinger } from "@picket/contracts";
import type { Logger } from "@picket/runtime";
import { originAllowed, withViewerToken, type ViewerTokens } from "./viewer-tokens.js";

const PATH = /^\/api\/live\/([^/?]+)\/([^/?]+)$/;

/**
 * Browsers open `/api/live/<device>/<profile>` on the web port and each socket is relayed
 * from the stream service, so only one port is ever exposed. The proxy always reads its
 * upstream (loopback would otherwise hide a slow phone behind megabytes of TCP buffers) and
 * applies the viewer policy to the browser's socket itself: behind → skip to a keyframe.
 */
/** How often open live sockets' sessions are checked, ms. */
const SESSION_CHECK_MS = 10_000;

export function createLiveProxy(opts: { streamUrl: string; log: Logger; highWaterBytes?: number; token?: ViewerTokens; publicOrigin?: string }) {
  const log = opts.log.child({ module: "live-proxy" });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  const pairs = new Set<{ browser: WebSocket; upstream: WebSocket; stillAllowed: (() => Promise<boolean>) | undefined }>();
  const high = opts.highWaterBytes ?? 512 * 1024;
  let skips = 0;
  const pinger = startPinger(() => [...pairs].map((p) => p.browser));

  // A viewer whose session ended (logout, password change, user removed) stops watching.
  const sessionCheck = setInterval(() => {
    for (const pair of pairs) {
      pair.stillAllowed?.().then(
        (ok) => {
          if (ok) return;
          log.info("live socket closed: its session ended");
          pair.browser.close(4401, "session ended");
          pair.upstream.terminate();
        },
        () => undefined, // the bus away: asked again next round
      );
    }
  }, SESSION_CHECK_MS);
  sessionCheck.unref();

  /** `stillAllowed`: whether the viewer's session still holds, asked every 10 s. */
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, stillAllowed?: () => Promise<boolean>): boolean => {
    socket.on("error", () => socket.destroy());
    const m = PATH.exec((req.url ?? "").split("?")[0] ?? "");
    if (m === null) return false;
    const names = decodeCameraNames(m[1] as string, m[2] as string);
    if (names === undefined) {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nbad device or profile name\n");
      return true;
    }
    const { device, profile } = names;
    // A page of another site must not open the cameras with this browser's access (cross-site websocket hijacking).
    if (!originAllowed(req.headers.origin, req.headers.host, opts.publicOrigin)) {
      log.warn({ origin: String(req.headers.origin).slice(0, 100), device, profile }, "live socket from another site refused");
      socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\ncross-site request refused\n");
      return true;
    }
    wss.handleUpgrade(req, socket, head, (browser) => {
      // The browser's User-Agent goes along: `auto` starts phones on the lowest profile.
      const upstream = new WebSocket(`${opts.streamUrl.replace(/\/$/, "")}/live/${device}/${profile}${withViewerToken("", opts.token?.(device, profile))}`, {
        perMessageDeflate: false,
        headers: { "user-agent": String(req.headers["user-agent"] ?? "").slice(0, 512) },
      });
      const pair = { browser, upstream, stillAllowed };
      pinger.track(browser);
      const policy = new Viewer(browser, { highBytes: high, lowBytes: Math.round(high / 4) }, undefined, () => skips++);
      let acking = false;
      // The player says which frames it got; the stream service judges from that (a phone a
      // second behind skips, and on `auto` steps down a profile), so the acks go on to it.
      browser.on("message", (data) => {
        const m = parseViewerMessage(data);
        if (m === undefined) return;
        acking = true;
        if (upstream.readyState === WebSocket.OPEN) upstream.send(JSON.stringify(m));
      });
      pairs.add(pair);
      upstream.binaryType = "nodebuffer";
      upstream.on("message", (data: Buffer, isBinary) => {
        if (browser.readyState !== WebSocket.OPEN) return;
        if (!isBinary) {
          browser.send(data.toString("utf8"));
          return;
        }
        if (data.length < LIVE_HEADER_BYTES) return;
        const seq = data.readUInt32LE(4);
        // A frame this proxy drops (the browser fell behind) will never be acked by the browser:
        // ack it for the browser, or the stream service would wait for it and stop sending.
        if (!policy.offer({ key: ((data[1] as number) & 1) === 1, seq, wire: data }) && acking && upstream.readyState === WebSocket.OPEN) {
          upstream.send(JSON.stringify({ type: "ack", seq }));
        }
      });
      let closed = false;
      const closeBoth = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        pairs.delete(pair);
        if (browser.readyState === WebSocket.OPEN) browser.close(code, reason);
        if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
      };
      upstream.on("error", (err) => {
        log.warn({ err: { message: err.message }, device, profile }, "stream service unreachable");
        closeBoth(1011, "stream service unreachable");
      });
      upstream.on("close", () => closeBoth(1001, "stream ended"));
      browser.on("close", () => closeBoth(1000, "viewer left"));
      browser.on("error", () => closeBoth(1011, "viewer error"));
    });
    return true;
  };

  return {
    handleUpgrade,
    close(): void {
      pinger.stop();
      clearInterval(sessionCheck);
      for (const { browser, upstream } of pairs) {
        browser.close(1001, "server shutting down");
        upstream.terminate();
      }
      pairs.clear();
      wss.close();
    },
    get viewers(): number {
      return pairs.size;
    },
    get skips(): number {
      return skips;
    },
  };
}
