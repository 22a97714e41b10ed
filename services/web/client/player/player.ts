import type { HlsEngine } from "./hls-player.js";
import { mediaSourceClass } from "./mse-sink.js";
import type { Player, PlayerPath, PlayerStats } from "./stats.js";
import { WebCodecsPlayer } from "./webcodecs-player.js";

export type { JoinTiming, Player, PlayerPath, PlayerStats } from "./stats.js";

const PATHS: readonly PlayerPath[] = ["webcodecs", "mse", "hls"];

export const isPlayerPath = (v: unknown): v is PlayerPath => PATHS.includes(v as PlayerPath);

/** H.264 constrained baseline, level 3.1: what every camera profile decodes with at most. */
const PROBE_CODEC = "avc1.42E01F";

/**
 * The path with the least delay that this browser supports: WebCodecs, else MSE, else HLS
 * (which every browser plays, natively or through hls.js).
 */
export async function detectPath(): Promise<PlayerPath> {
  if (typeof VideoDecoder === "function") {
    const support = await VideoDecoder.isConfigSupported({ codec: PROBE_CODEC }).catch(() => ({ supported: false }));
    if (support.supported === true) return "webcodecs";
  }
  if (mediaSourceClass()?.isTypeSupported(`video/mp4; codecs="${PROBE_CODEC}"`) === true) return "mse";
  return "hls";
}

export interface PlayerChoice {
  path: PlayerPath;
  /** For the HLS path: the browser's own player where it has one ("auto"), or the one named. */
  hls: HlsEngine | "auto";
}

/**
 * What the page plays with: `?player=webcodecs|mse|hls` forces a path (for tests, and for
 * users whose browser misbehaves on the one detected), `?hls=native|hls.js` the HLS engine;
 * otherwise feature detection decides. An unknown value is ignored.
 */
export async function choosePlayer(params: URLSearchParams): Promise<PlayerChoice> {
  const forced = params.get("player");
  const engine = params.get("hls");
  return {
    path: isPlayerPath(forced) ? forced : await detectPath(),
    hls: engine === "native" ? "native" : engine === "hls.js" || engine === "hlsjs" ? "hls.js" : "auto",
  };
}

/**
 * A player of one camera on the chosen path. MSE and HLS are loaded on demand, so the
 * default path's page stays small (hls.js alone is several times the rest of the page).
 */
export async function createPlayer(choice: PlayerChoice, device: string, profile: string, onStats: (s: PlayerStats) => void): Promise<Player> {
  switch (choice.path) {
    case "webcodecs":
      return new WebCodecsPlayer(device, profile, onStats);
    case "mse": {
      const { MsePlayer } = await import("./mse-player.js");
      return new MsePlayer(device, profile, onStats);
    }
    case "hls": {
      const { HlsPlayer } = await import("./hls-player.js");
      return new HlsPlayer(device, profile, onStats, choice.hls);
    }
  }
}
