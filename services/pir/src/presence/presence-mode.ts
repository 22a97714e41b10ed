import { DetectionSettings, type PresenceMode as PresenceModeSetting } from "@picket/contracts";
import type { PresenceMode } from "./presence-engine.js";

export type { PresenceModeSetting };

/**
 * The engine's mode for a configured one. `auto` is `pir+motion` while the camera's motion
 * detector runs (`cameraMotion`), and `pir` alone when it does not, so a camera that is gone
 * never makes the PIR wait for motion that cannot come. Pure.
 */
export function effectiveMode(configured: PresenceModeSetting, cameraMotion: boolean): PresenceMode {
  if (configured !== "auto") return configured;
  return cameraMotion ? "pir+motion" : "pir";
}

/** Reads the stored detection setting (`devices.<d>.detection`, JSON). Throws on anything else. */
export function parseDetection(raw: string): DetectionSettings {
  return DetectionSettings.parse(JSON.parse(raw));
}
