import type { LiveControl, LiveFrame } from "@picket/contracts/live-frame";
import { LiveSocket, type LiveInfo } from "./live-socket.js";
import { StatsKeeper, type JoinTiming, type Player, type PlayerPath, type PlayerStats } from "./stats.js";

/** A muted, inline <video> that plays as soon as it can: what a live view needs to start without a tap. */
export function createLiveVideo(): HTMLVideoElement {
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  return video;
}

/** What every path shares: its figures, kept by a StatsKeeper, behind the Player's `stats`, `latencies` and `join`. */
export abstract class BasePlayer implements Player {
  abstract readonly element: HTMLVideoElement | HTMLCanvasElement;
  protected readonly keeper: StatsKeeper;

  constructor(path: PlayerPath, profile: string, onStats: (s: PlayerStats) => void) {
    this.keeper = new StatsKeeper(path, profile, onStats);
  }

  get stats(): PlayerStats {
    return this.keeper.stats;
  }
  get latencies(): number[] {
    return this.keeper.latencies;
  }
  get join(): JoinTiming {
    return this.keeper.join;
  }

  abstract start(): void;
  abstract stop(): void;
}

/**
 * The websocket paths (WebCodecs and MSE): frames from a LiveSocket, counted as received,
 * and a `needKey` flag that makes the player wait for the next keyframe whenever the
 * stream starts over (a new socket, a status other than live). Subclasses take the info
 * message and the frames; `start` and `stop` the socket.
 */
export abstract class SocketPlayer extends BasePlayer {
  protected readonly socket: LiveSocket;
  /** Frames are dropped until the next keyframe. */
  protected needKey = true;

  constructor(path: PlayerPath, device: string, profile: string, onStats: (s: PlayerStats) => void) {
    super(path, profile, onStats);
    this.requested = profile;
    this.socket = new LiveSocket(device, profile, {
      opened: () => {
        this.needKey = true;
        this.keeper.opened();
      },
      control: (msg) => this.control(msg),
      frame: (f, bytes) => {
        this.keeper.received(bytes, f.seq);
        this.frame(f);
      },
      closed: () => this.keeper.setState("reconnecting"),
    });
  }

  /** What the stream sends: told when a socket opens and again whenever codec or size change. */
  private readonly requested: string;
  protected abstract described(info: LiveInfo): void;
  protected abstract frame(f: LiveFrame): void;

  private control(msg: LiveControl): void {
    if (msg.type === "info") {
      // The profile the stream sends (under `auto`, the one it chose for this viewer).
      this.keeper.describe({ profile: this.requested === "auto" ? `auto: ${msg.profile}` : msg.profile });
      this.described(msg);
    } else if (msg.type === "status") {
      this.keeper.setState(msg.state);
      if (msg.state !== "live") this.needKey = true;
    }
  }
}
