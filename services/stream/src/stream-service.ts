import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { decodeCameraNames, parseViewerMessage, startPinger, type QualityPresets, type Viewer } from "@picket/contracts";
import { Counter, watchConnection, type KV, type Logger, type NatsConnection, type ServiceMetrics } from "@picket/runtime";
import { HlsServer, parseHlsPath } from "./hls-server.js";
import { checkAccess } from "./viewer-access.js";
import { AutoProfile, autoLadder } from "./auto-profile.js";
import { watchDevicePresets, type PresetsWatch } from "./device-presets.js";
import { Relay } from "./relay.js";
import { VideoSources } from "./video-sources.js";

/** The profile name a viewer asks for to let the stream service choose. */
const AUTO = "auto";

export interface StreamServiceDeps {
  nc: NatsConnection;
  log: Logger;
  metrics: ServiceMetrics;
  highWaterBytes: number;
  sourceTimeoutMs: number;
  hlsIdleMs: number;
  hlsStartTimeoutMs: number;
  /** The profiles `auto` moves between, best first, for a camera without quality presets. */
  autoProfiles?: string[];
  /** The settings bucket: each camera's quality presets (its `auto` ladder), followed live. */
  settings?: KV;
  /** Viewers need a token signed with it; unset, anyone who reaches the port may watch. */
  liveSecret?: string | undefined;
}

const LIVE_PATH = /^\/live\/([^/]+)\/([^/]+)$/;

/** Parses `/live/<device>/<profile>`; undefined when the path or either name is invalid. */
export function parseLivePath(url: string | undefined): { device: string; profile: string } | undefined {
  const path = (url ?? "").split("?")[0] ?? "";
  const m = LIVE_PATH.exec(path);
  if (m === null) return undefined;
  return decodeCameraNames(m[1] as string, m[2] as string);
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
  /** Viewers of `auto`: every few seconds, one that kept up long enough steps up a profile. */
  const autoViewers = new Set<{ device: string; userAgent: string | undefined; auto: AutoProfile; move: (next: string, why: string) => void }>();
  let presetsWatch: PresetsWatch | undefined;
  const configured = deps.autoProfiles ?? ["high"];
  const ladderFor = (device: string, userAgent: string | undefined) => autoLadder(presetsWatch?.get(device), configured, userAgent);

  /**
   * A camera's presets changed: its `auto` viewers start again on the new ladder (on the same
   * profile, if that is where it starts them: its video changes size on the same channel);
   * then the viewers left on a profile it no longer has are told.
   */
  const presetsChanged = (device: string, presets: QualityPresets | undefined) => {
    const now = Date.now();
    let moved = 0;
    for (const v of autoViewers) {
      if (v.device !== device) continue;
      const ladder = autoLadder(presets, configured, v.userAgent);
      v.auto = new AutoProfile({ profiles: ladder.profiles }, ladder.start, now);
      v.move(v.auto.profile, "presets changed");
      moved++;
    }
    log.info({ device, profiles: presets?.presets.map((p) => p.name) ?? "the camera's own", autoViewers: moved }, "quality presets changed");
    relay.presetsChanged(device, presets?.presets.map((p) => p.name));
  };
  const stepUp = setInterval(() => {
    for (const v of autoViewers) {
      const next = v.auto.tick(Date.now());
      if (next !== undefined) v.move(next, "kept up");
    }
  }, 5_000);
  stepUp.unref();

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
      const { device } = target;
      // `auto`: a profile chosen for this viewer, changed when it keeps falling behind or keeping
      // up, and when the camera's presets change.
      const userAgent = req.headers["user-agent"];
      const ladder = ladderFor(device, userAgent);
      const autoEntry = target.profile === AUTO ? { device, userAgent, auto: new AutoProfile({ profiles: ladder.profiles }, ladder.start, Date.now()), move: (next: string, why: string) => move(next, why) } : undefined;
      let profile = autoEntry?.auto.profile ?? target.profile;
      let skips = 0;
      let sent = 0;
      const join = (): Viewer =>
        relay.join(device, profile, ws, () => {
          const next = autoEntry?.auto.skipped(Date.now());
          // Not while the relay is offering this frame to its viewers.
          if (next !== undefined) queueMicrotask(() => move(next, "fell behind"));
        });
      let viewer = join();
      const move = (next: string, why: string) => {
        if (ws.readyState !== ws.OPEN || next === profile) return;
        relay.leave(device, profile, viewer);
        skips += viewer.skips;
        sent += viewer.sent;
        log.info({ device, from: profile, to: next, why }, "auto profile changed");
        profile = next;
        viewer = join();
      };
      if (autoEntry !== undefined) autoViewers.add(autoEntry);
      // A viewer only says which frames it got (size-capped by maxPayload); anything else is ignored.
      ws.on("message", (data) => {
        const m = parseViewerMessage(data);
        if (m !== undefined) viewer.ack(m.seq);
      });
      log.info({ ...target, profile, viewers: relay.viewerCount, who: access.who }, "viewer joined");
      ws.once("close", () => {
        if (autoEntry !== undefined) autoViewers.delete(autoEntry);
        relay.leave(device, profile, viewer);
        log.info({ ...target, profile, viewers: relay.viewerCount, skips: skips + viewer.skips, sent: sent + viewer.sent }, "viewer left");
      });
    });
  };

  return {
    /** Follows the cameras' quality presets (with a settings bucket); call before serving viewers. */
    async start(): Promise<void> {
      if (deps.settings !== undefined) presetsWatch = await watchDevicePresets(deps.settings, presetsChanged, log);
    },
    handleUpgrade,
    /** Serves `/hls/…`; false for other paths. */
    handleRequest: (req: IncomingMessage, res: ServerResponse): boolean => {
      const target = parseHlsPath(req.url);
      if (target === undefined) return false;
      if (target.ok && target.profile === AUTO) {
        // HLS has no per-viewer stepping here: the player is sent to the profile `auto` starts it on.
        const chosen = ladderFor(target.device, req.headers["user-agent"]).start;
        const [path = "", query] = (req.url ?? "").split("?");
        res.writeHead(302, { location: `${path.replace(`/${AUTO}/`, `/${chosen}/`)}${query === undefined ? "" : `?${query}`}`, "cache-control": "no-cache" });
        res.end();
        return true;
      }
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
      presetsWatch?.stop();
      clearInterval(stepUp);
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
