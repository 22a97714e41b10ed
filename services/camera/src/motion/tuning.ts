/**
 * The motion detector's knobs. Grey levels are 0..255 on the analysis grid (2×2 averaged at
 * 320×180), times are seconds of capture wall clock, so the detector behaves the same at 2 and
 * at 10 frames per second.
 */

/** Target size of the analysis grid: frames are block-averaged down to about this (whole pixels per cell). */
export const ANALYSIS_WIDTH = 160;
export const ANALYSIS_HEIGHT = 90;
/** Time constant of the background where nothing changes (Frigate's frame_alpha 0.01 at 5 fps is 20 s; shadows and dust move faster than that). */
export const BACKGROUND_TAU_S = 5;
/** A cell that has stayed changed this long is something that stopped (a parked car, a standing person): it joins the background. */
export const ABSORB_AFTER_S = 20;
/** Time constant with which such a cell is absorbed. */
export const ABSORB_TAU_S = 1;
/** Time constant of the sensor noise estimate. */
export const NOISE_TAU_S = 2;
/** Frames in a row that must show motion before `moving` is reported (Motion's minimum_motion_frames). */
export const MIN_MOTION_FRAMES = 2;
/**
 * A whole-frame light change: the robust (median) brightness shift between background and frame,
 * at the dark or the bright quartile of the scene, of at least this many grey levels in one frame.
 * A walking person moves these medians by a fraction of the noise, a lamp or IR switch by tens.
 */
export const LIGHT_STEP = 8;
/** …or at least this fraction of the unmasked frame changed after brightness compensation (Frigate's lightning_threshold is 0.8). */
export const LIGHT_FRACTION = 0.5;
/** After a light change no motion is reported for this long while the background adapts fast (exposure settling; Motion's lightswitch_frames). */
export const LIGHT_HOLD_S = 1;
/** Time constant of the background during that hold. */
export const LIGHT_HOLD_TAU_S = 0.3;
/** A gap in the frames longer than this (camera paused) restarts the detector from the next frame. */
export const RESEED_GAP_S = 10;
/** Smallest number of changed cells that can ever count as motion, whatever the sensitivity. */
export const MIN_CELLS = 4;

/** What a sensitivity (1..10) means for the detector. */
export interface Tuning {
  /** A cell changed when |frame − background| exceeds max(thresholdFloor, noiseFactor × noise σ). */
  thresholdFloor: number;
  noiseFactor: number;
  /** Changed fraction of the watched area needed to count as motion. */
  minArea: number;
}

const between = (lo: number, hi: number, t: number) => lo + (hi - lo) * t;
const geometric = (lo: number, hi: number, t: number) => lo * (hi / lo) ** t;

/**
 * Sensitivity 1 wants a large, clear change; 10 a small, faint one. At the default 5 a cell
 * must differ by ~14 grey levels (or 4.7 σ of the sensor noise, if that is more) and ~0.4 % of
 * the watched area must change (Motion's default is 1500 changed pixels at 640×480, 0.5 %).
 */
export function tuningFor(sensitivity: number): Tuning {
  const t = (Math.min(10, Math.max(1, sensitivity)) - 1) / 9;
  return { thresholdFloor: geometric(28, 6, t), noiseFactor: between(6, 3, t), minArea: geometric(0.02, 0.0005, t) };
}
