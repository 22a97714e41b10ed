import type { PlayerStats } from "../player/player.js";

/**
 * The overlay's line: "auto: high 1280×720 · path: webcodecs · 25 fps · 2035 kbit/s · 8 ms"
 * (tests read it). What is shown comes first: a phone's tile shows one line, cut at its end.
 */
export function describe(s: PlayerStats): string {
  const path = `path: ${s.path}${s.engine === "" ? "" : ` (${s.engine})`}`;
  switch (s.state) {
    case "live":
      return [
        `${s.profile} ${s.width}×${s.height}`,
        path,
        `${s.fps.toFixed(0)} fps`,
        ...(s.kbps > 0 ? [`${s.kbps} kbit/s`] : []),
        ...(s.latencyMs > 0 ? [`${s.latencyMs.toFixed(0)} ms`] : []),
      ].join(" · ");
    case "unsupported":
      return `${path} · this browser cannot play the live stream this way`;
    case "source-lost":
      return `${path} · camera not sending; waiting for it…`;
    default:
      return `${path} · ${s.state}…`;
  }
}
