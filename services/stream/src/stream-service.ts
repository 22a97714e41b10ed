import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { isDeviceId, isProfileName, parseViewerMessage, startPinger } from "@picket/contracts";
import { Counter, watchConnection, type Logger, type NatsConnection, type ServiceMetrics } from "@picket/runtime";
import { HlsServer, parseHlsPath } from "./hls-server.js";
import { checkAccess } from "./viewer-access.js";
import { Relay } from "./relay.js";
import { VideoSources } from "./video-sources.js";

export interface StreamServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  highWaterBytes: number;
  sourceTimeoutMs: number;
  hlsIdleMs: number;
  hlsStartTimeoutMs: number;
  /** Viewers need a token signed with it; unset, anyone who reaches the port may watch. */
  liveSecret?: string | undefined;
}

const LIVE_PATH = /^\/live\/([^/]+)\/([^/]+)$/;

/** Parses `/live/<device>/<profile>`; undefined when the path or either name is invalid. */
export function parseLivePath(url: string | undefined): { device: string; profile: string } | undefined {
  const path = (url ?? "").split("?")[0] ?? "";
  const m = LIVE_PATH.exec(path);
  if (m === null) return undefined;
  let device: string;
  let profile: string;
  try {
    device = decodeURIComponent(m[1] as string);
    profile = decodeURIComponent(m[2] as string);
  } catch {
    return undefined; // malformed %-encoding: a URIError here would escape the server's "upgrade" listener
  }
  return isDeviceId(device) && isProfileName(profile) ? { device, profile } : undefined;
}

/**
 * Viewers' websockets: `/live/<device>/<profile>` relays that camera's access units as
 * live frames (see contracts/live-frame.ts). Dead sockets are found by ping and dropped.
 * HTTP: `/hls/<device>/<profile>/index.m3u8` and its files (see hls-server.ts). Both take
 * their video from one source per camera.
 */
export function createStreamService(deps: StreamServiceDeps) {
  const log = deps.log.child({ module: "stream" });
  const link = watchConnection(deps.nc);
  const sources = new VideoSources({ nc: deps.nc, log: deps.log, metrics: deps.metrics });
  const relay = new Relay({
    sources,
    log: deps.log,
    metrics: deps.metrics,
    marks: { highBytes: deps.highWaterBytes, lowBytes: Math.round(deps.highWaterBytes / 4) },
    sourceTimeoutMs: deps.sourceTimeoutMs,
  });
  const hls = new HlsServer({
    sources,
    log: deps.log,
    metrics: deps.metrics,
    idleMs: deps.hlsIdleMs,
    startTimeoutMs: deps.hlsStartTimeoutMs,
    sourceTimeoutMs: deps.sourceTimeoutMs,
  });
  const refused = new Counter({ name: "picket_stream_viewers_refused_total", help: "Viewers refused (401 no or bad token, 403 another site's page)", labelNames: ["reason"] as const, registers: [deps.metrics.registry] });
  if (deps.liveSecret === undefined) log.warn("PICKET_LIVE_SECRET is not set: anyone who reaches this port can watch; npm start sets one");
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
  const pinger = startPinger(() => wss.clients);

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener on upgrade: without one, a client's reset would crash us.
    socket.on("error", () => socket.destroy());
    const target = parseLivePath(req.url);
    if (target === undefined) {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nexpected /live/<device>/<profile>\n");
      return;
    }
    const access = checkAccess(req, deps.liveSecret, target.device, target.profile);
    if (!access.ok) {
      refused.inc({ reason: String(access.status) });
      log.warn({ ...target, status: access.status, remote: req.socket.remoteAddress }, "viewer refused");
      socket.end(`HTTP/1.1 ${access.status} ${access.status === 401 ? "Unauthorized" : "Forbidden"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${access.error}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      pinger.track(ws);
      ws.on("error", (err) => log.debug({ err }, "viewer socket error"));
      const viewer = relay.join(target.device, target.profile, ws);
      // A viewer only says which frames it got (size-capped by maxPayload); anything else is ignored.
      ws.on("message", (data) => {
        const m = parseViewerMessage(data);
        if (m !== undefined) viewer.ack(m.seq);
      });
      log.info({ ...target, viewers: relay.viewerCount, who: access.who }, "viewer joined");
      ws.once("close", () => {
        relay.leave(target.device, target.profile, viewer);
        log.info({ ...target, viewers: relay.viewerCount, skips: viewer.skips, sent: viewer.sent }, "viewer left");
      });
    });
  };

  return {
    handleUpgrade,
    /** Serves `/hls/…`; false for other paths. */
    handleRequest: (req: IncomingMessage, res: ServerResponse): boolean => {
      const target = parseHlsPath(req.url);
      if (target === undefined) return false;
      if (target.ok) {
        const access = checkAccess(req, deps.liveSecret, target.device, target.profile);
        if (!access.ok) {
          refused.inc({ reason: String(access.status) });
          res.writeHead(access.status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
          res.end(`${access.error}\n`);
          return true;
        }
      }
      return hls.handle(req, res);
    },
    async stop(): Promise<void> {
      pinger.stop();
      for (const ws of wss.clients) ws.close(1001, "server shutting down");
      relay.close();
      hls.close();
      sources.close();
      wss.close();
    },
    health() {
      return { ok: link.connected, nats: link.connected, viewers: relay.viewerCount, hlsStreams: hls.streamCount, subscribed: sources.subscribed };
    },
    vitals(): Record<string, number> {
      return { viewers: relay.viewerCount, hlsStreams: hls.streamCount, subscriptions: sources.subscribed.length, skips: relay.totalSkips };
    },
  };
}
