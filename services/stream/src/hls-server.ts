import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeCameraNames } from "@picket/contracts";
import { Gauge, Histogram, type Logger, type ServiceMetrics } from "@picket/runtime";
import { HlsPackager } from "./hls-packager.js";
import { renderPlaylist, withToken } from "./hls-playlist.js";
import type { VideoSources } from "./video-sources.js";

export type HlsFile = { kind: "playlist" } | { kind: "init" } | { kind: "segment"; msn: number } | { kind: "part"; msn: number; index: number };

export type HlsTarget = { ok: true; device: string; profile: string; file: HlsFile } | { ok: false; status: 400 | 404; error: string };

const HLS_PATH = /^\/hls\/([^/]+)\/([^/]+)\/([^/]+)$/;
const FILE = /^(?:(index\.m3u8)|(init\.mp4)|seg(\d{1,15})\.m4s|seg(\d{1,15})\.(\d{1,4})\.m4s)$/;

/**
 * Parses `/hls/<device>/<profile>/<file>` (query ignored); undefined for paths outside `/hls/`.
 * File is `index.m3u8`, `init.mp4`, `seg<msn>.m4s` or `seg<msn>.<part>.m4s`.
 */
export function parseHlsPath(url: string | undefined): HlsTarget | undefined {
  const path = (url ?? "").split("?")[0] ?? "";
  if (!path.startsWith("/hls/")) return undefined;
  const m = HLS_PATH.exec(path);
  if (m === null) return { ok: false, status: 404, error: "expected /hls/<device>/<profile>/index.m3u8" };
  const names = decodeCameraNames(m[1] as string, m[2] as string);
  if (names === undefined) return { ok: false, status: 400, error: "bad device or profile name" };
  const { device, profile } = names;
  const f = FILE.exec(m[3] as string);
  if (f === null) return { ok: false, status: 404, error: "no such file: expected index.m3u8, init.mp4, seg<N>.m4s or seg<N>.<P>.m4s" };
  const file: HlsFile =
    f[1] !== undefined ? { kind: "playlist" }
    : f[2] !== undefined ? { kind: "init" }
    : f[3] !== undefined ? { kind: "segment", msn: Number(f[3]) }
    : { kind: "part", msn: Number(f[4]), index: Number(f[5]) };
  return { ok: true, device, profile, file };
}

export interface HlsServerOptions {
  sources: Pick<VideoSources, "attach">;
  log: Logger;
  metrics: ServiceMetrics;
  /** A stream with no request for this long stops being packaged. */
  idleMs: number;
  /** How long a request waits for a stream's first complete segment. */
  startTimeoutMs: number;
  /** No frame for this long: the segment being filled ends with what it has. */
  sourceTimeoutMs: number;
  nowMs?: () => number;
}

interface Channel {
  device: string;
  profile: string;
  packager: HlsPackager;
  detach: () => void;
  idleTimer: NodeJS.Timeout;
  lostTimer: NodeJS.Timeout;
  /** Requests being held; the channel outlives its idle time while there are any. */
  holding: number;
}

const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";
const MEDIA_TYPE = "video/mp4";
/** Segment and part names are never reused (see firstMsn), so a cache may keep them as long as they are listed. */
const MEDIA_CACHE = "max-age=60";

/**
 * LL-HLS for players that are not browsers (VLC, Home Assistant, ffmpeg) and browsers without
 * WebCodecs or MSE: `/hls/<device>/<profile>/index.m3u8` and the fMP4 files it lists. A
 * stream is packaged from its first request until no request has come for `idleMs`; while
 * packaged it holds the camera like a live viewer. Requests for what is about to exist (a
 * blocking playlist reload, the preload hint's part) are held until it does, or time out.
 */
export class HlsServer {
  private readonly channels = new Map<string, Channel>();
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private readonly streams: Gauge;
  private readonly partDelay: Histogram;

  constructor(private readonly opts: HlsServerOptions) {
    this.log = opts.log.child({ module: "hls" });
    this.nowMs = opts.nowMs ?? Date.now;
    const registers = [opts.metrics.registry];
    this.streams = new Gauge({ name: "picket_stream_hls_streams", help: "Streams being packaged for HLS", registers });
    this.partDelay = new Histogram({
      name: "picket_stream_hls_part_delay_seconds",
      help: "From capture of a part's last frame to the part being available",
      buckets: [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
  }

  /** Serves `/hls/…` requests; false for any other path (for the ops server's `extra`). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = parseHlsPath(req.url);
    if (target === undefined) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      text(res, 405, "only GET and HEAD");
    } else if (!target.ok) {
      text(res, target.status, target.error);
    } else {
      const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
      this.serve(target.device, target.profile, target.file, query, res).catch((err: unknown) => {
        this.log.error({ err, url: req.url }, "HLS request failed");
        if (!res.headersSent) text(res, 500, "internal error");
        else res.destroy();
      });
    }
    return true;
  };

  get streamCount(): number {
    return this.channels.size;
  }

  close(): void {
    for (const ch of this.channels.values()) this.release(ch);
    this.channels.clear();
  }

  private async serve(device: string, profile: string, file: HlsFile, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const ch = this.channel(device, profile);
    const p = ch.packager;
    if (!(await this.hold(ch, res, () => p.ready, this.opts.startTimeoutMs))) {
      const s = Math.round(this.opts.startTimeoutMs / 1000);
      return text(res, 503, `no video from ${device}/${profile} within ${s} s: is the camera running, and are the device and profile right?`);
    }
    const blockMs = 3 * p.targetDurationS * 1000; // RFC 8216bis: answer within three target durations
    switch (file.kind) {
      case "playlist": {
        const msn = query.get("_HLS_msn");
        const part = query.get("_HLS_part");
        if (msn !== null || part !== null) {
          if (msn === null || !/^\d{1,15}$/.test(msn) || (part !== null && !/^\d{1,4}$/.test(part))) return text(res, 400, "_HLS_msn must be a number, and _HLS_part a number given with it");
          const [m, n] = [Number(msn), part === null ? undefined : Number(part)];
          if (m > p.nextPart.msn + 2) return text(res, 400, `_HLS_msn ${m} is too far ahead of the playlist (at ${p.nextPart.msn})`);
          if (!(await this.hold(ch, res, () => p.reached(m, n), blockMs))) return text(res, 503, `segment ${m}${n === undefined ? "" : ` part ${n}`} did not come in time`);
        }
        return send(res, PLAYLIST_TYPE, "no-cache", withToken(renderPlaylist(p), query.get("token")));
      }
      case "init":
        return send(res, MEDIA_TYPE, "no-cache", p.init as Uint8Array);
      case "segment": {
        const { msn } = file;
        await this.hold(ch, res, () => p.segmentAvailability(msn) !== "later", blockMs);
        const bytes = p.segment(msn)?.bytes;
        if (bytes !== undefined) return send(res, MEDIA_TYPE, MEDIA_CACHE, bytes);
        return text(res, p.segmentAvailability(msn) === "later" ? 503 : 404, `segment ${msn} is not in the playlist`);
      }
      case "part": {
        const { msn, index } = file;
        await this.hold(ch, res, () => p.partAvailability(msn, index) !== "later", blockMs);
        const part = p.part(msn, index);
        if (part !== undefined) return send(res, MEDIA_TYPE, MEDIA_CACHE, part.bytes);
        return text(res, p.partAvailability(msn, index) === "later" ? 503 : 404, `part ${index} of segment ${msn} is not in the playlist`);
      }
    }
  }

  /** The channel for a request, opened (subscribing to the camera) on the first one. */
  private channel(device: string, profile: string): Channel {
    const key = `${device}/${profile}`;
    const known = this.channels.get(key);
    if (known !== undefined) {
      known.idleTimer.refresh();
      return known;
    }
    // Sequence numbers from the clock: a name never means two different segments, even
    // across restarts, so caches may keep them (segments last a second or more).
    const packager = new HlsPackager({ firstMsn: Math.floor(this.nowMs() / 1000) });
    const ch: Channel = {
      device,
      profile,
      packager,
      detach: () => undefined,
      holding: 0,
      idleTimer: setTimeout(() => this.onIdle(ch), this.opts.idleMs),
      lostTimer: setTimeout(() => packager.interrupt(), this.opts.sourceTimeoutMs),
    };
    packager.onChange((part) => {
      if (part !== undefined) this.partDelay.observe(Math.max(0, this.nowMs() / 1000 - part.lastCapturedUs / 1e6));
    });
    ch.detach = this.opts.sources.attach(device, profile, (unit) => {
      ch.lostTimer.refresh();
      packager.push(unit);
    });
    this.channels.set(key, ch);
    this.streams.set(this.channels.size);
    this.log.info({ device, profile }, "HLS requested; packaging");
    return ch;
  }

  private onIdle(ch: Channel): void {
    if (ch.holding > 0) {
      ch.idleTimer.refresh();
      return;
    }
    this.release(ch);
    this.channels.delete(`${ch.device}/${ch.profile}`);
    this.streams.set(this.channels.size);
    this.log.info({ device: ch.device, profile: ch.profile, idleS: this.opts.idleMs / 1000 }, "no HLS requests; stopped packaging");
  }

  private release(ch: Channel): void {
    clearTimeout(ch.idleTimer);
    clearTimeout(ch.lostTimer);
    ch.detach();
  }

  /** Resolves true once `check` holds (at once if it does now), false on timeout or when the client goes. */
  private hold(ch: Channel, res: ServerResponse, check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      ch.holding++;
      const done = (ok: boolean) => {
        clearTimeout(timer);
        stopListening();
        res.off("close", gone);
        ch.holding--;
        ch.idleTimer.refresh(); // a held request counts as activity until it is answered
        resolve(ok);
      };
      const gone = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      const stopListening = ch.packager.onChange(() => {
        if (check()) done(true);
      });
      res.once("close", gone);
    });
  }
}

function send(res: ServerResponse, type: string, cacheControl: string, body: string | Uint8Array): void {
  if (res.destroyed) return;
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(200, { "content-type": type, "cache-control": cacheControl, "content-length": bytes.length });
  res.end(bytes);
}

function text(res: ServerResponse, status: number, message: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
  res.end(`${message}\n`);
}
