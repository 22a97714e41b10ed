import type { Box, MotionSettings } from "@picket/contracts";
import {
  DIFF_BINS,
  DIFF_HIST,
  RESID_BINS,
  RESID_HIST,
  classify,
  createGrid,
  downsample,
  histogramDifferences,
  histogramLevels,
  histogramResiduals,
  measureAndUpdate,
  type Grid,
  type Measure,
} from "./grid-passes.js";
import { histogramQuantile } from "./histogram.js";
import { buildWatchRegions, type WatchRegions } from "./polygon-mask.js";
import * as K from "./tuning.js";

/** What the detector makes of one frame. */
export interface MotionResult {
  /** Motion in this frame and the one before (MIN_MOTION_FRAMES), outside masks and, with zones, inside one. */
  moving: boolean;
  /** Changed fraction of the watched area in this frame (also when not `moving`). */
  score: number;
  /** Bounding box of the changed area in frame fractions while `moving`, else null. */
  box: Box | null;
  /** Names of the zones the motion touches, in settings order (empty without zones or motion). */
  zones: string[];
  /** This frame was a whole-frame light change: ignored, and the background re-learnt from it. */
  lightChange: boolean;
}

/** Numbers behind the last result, for tests, benchmarks and tuning. */
export interface MotionDiagnostics {
  /** Sensor noise σ of frame − background on the analysis grid, grey levels. */
  noise: number;
  /** Per-cell change threshold in use, grey levels. */
  threshold: number;
  /** Global light model fitted to the last frame: frame ≈ gain × background + offset. */
  gain: number;
  offset: number;
  /** Changed cells after despeckle inside the watched area, and that area, in cells. */
  changedCells: number;
  watchedCells: number;
}

/** Fewer samples than this in a brightness group and the light fit uses one offset only. */
const MIN_GROUP = 32;
/** 1.4826 × median absolute deviation estimates σ of a normal distribution. */
const MAD_TO_SIGMA = 1.4826;

/**
 * Camera motion detector: a pure function of the gray frames it is given, their capture times
 * and the settings. Per frame:
 *
 * 1. Block-average to an analysis grid about 160 cells wide (a cheap blur that also halves the
 *    sensor noise at 320×180).
 * 2. Fit a global light change robustly, frame ≈ gain × background + offset, from the median
 *    difference in the dark and in the bright half of the scene; a walking person barely moves
 *    those medians. The background follows the fit at once, so a cloud or auto-exposure ramp
 *    never shows as motion. A large fit (≥ LIGHT_STEP levels), or half the frame still changed
 *    after it, is a light change: reported, the background re-seeded, motion held off briefly.
 * 3. Threshold |frame − background| at max(floor, k × noise σ), σ from the median absolute
 *    residual, so temporal noise of any strength stays below it.
 * 4. Despeckle with a 3×3 majority filter (drops isolated cells and 1-cell lines, fills pin
 *    holes, keeps 2-cell-wide limbs); count changed cells in the watched area.
 * 5. Update the background: slowly where nothing changed, not at all where something did —
 *    unless it has stayed changed for ABSORB_AFTER_S (something that stopped joins the scene;
 *    what it covered is remembered, so when it leaves, the old scene is taken back at once
 *    instead of showing as a "ghost").
 *
 * Frames must be `width × height` bytes of 8-bit luma; the detector copies what it needs, so
 * the caller may reuse the buffer. Nothing is allocated per frame but the small result.
 */
export class MotionDetector {
  /** Pixels per analysis cell along each axis. */
  readonly factor: number;
  readonly gridWidth: number;
  readonly gridHeight: number;
  private readonly grid: Grid;
  private readonly diffHist = new Uint32Array(DIFF_HIST);
  private readonly brightDiffs = this.diffHist.subarray(0, DIFF_BINS);
  private readonly darkDiffs = this.diffHist.subarray(DIFF_BINS, 2 * DIFF_BINS);
  private readonly residHist = new Uint32Array(RESID_HIST);
  private readonly residuals = this.residHist.subarray(0, RESID_BINS);
  private readonly bgHist = new Uint32Array(512);
  private readonly bgLevels = this.bgHist.subarray(0, 256);
  private readonly groups = { dark: 0, bright: 0 };
  private readonly measure: Measure = { count: 0, minX: 0, minY: 0, maxX: 0, maxY: 0, zones: 0 };
  private regions!: WatchRegions;
  private tuning!: K.Tuning;
  private seeded = false;
  private lastAt = 0;
  /** Smoothed noise σ; negative until measured. */
  private noise = -1;
  private run = 0;
  private holdUntil = Number.NEGATIVE_INFINITY;
  /** Background quartiles: the dark/bright split and each half's median, for the light fit. */
  private bgSplit = 0;
  private bgDark = 0;
  private bgBright = 0;
  private diag: MotionDiagnostics = { noise: 0, threshold: 0, gain: 1, offset: 0, changedCells: 0, watchedCells: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
    settings: MotionSettings,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8) {
      throw new RangeError(`motion frames must be at least 8×8 whole pixels, not ${width}×${height}`);
    }
    this.factor = Math.max(1, Math.floor(Math.min(width / K.ANALYSIS_WIDTH, height / K.ANALYSIS_HEIGHT)));
    this.gridWidth = Math.floor(width / this.factor);
    this.gridHeight = Math.floor(height / this.factor);
    this.grid = createGrid(this.gridWidth, this.gridHeight);
    this.updateSettings(settings);
  }

  /** Applies new masks, zones and sensitivity from the next frame on; the background is kept. */
  updateSettings(settings: MotionSettings): void {
    this.regions = buildWatchRegions(settings, this.width, this.height, this.factor, this.gridWidth, this.gridHeight);
    this.tuning = K.tuningFor(settings.sensitivity);
    if (this.seeded) this.learnBackgroundLevels();
  }

  /** The numbers behind the last result. */
  get diagnostics(): Readonly<MotionDiagnostics> {
    return this.diag;
  }

  /**
   * Analyses one frame (`width × height` bytes of luma, row-major) captured at wall clock
   * `atMs`. The first frame, and the first after a gap of more than RESEED_GAP_S, only seeds
   * the background. Times going backwards are treated as a minimal step.
   */
  push(frame: Uint8Array, atMs: number): MotionResult {
    if (frame.length < this.width * this.height) {
      throw new RangeError(`motion frame has ${frame.length} bytes, expected ${this.width}×${this.height} = ${this.width * this.height}`);
    }
    const { grid, regions, tuning } = this;
    downsample(frame, this.width, this.factor, grid);
    const stepS = (atMs - this.lastAt) / 1000;
    if (!this.seeded || Math.abs(stepS) > K.RESEED_GAP_S) {
      this.seed(atMs);
      return quiet(false);
    }
    const dt = Math.min(1, Math.max(0.001, stepS));
    this.lastAt = atMs;

    const light = this.fitLight();
    // Noise first, so that a frame noisier than the running estimate (gain jumped) is judged by its own.
    const sampled = histogramResiduals(grid, regions.unmasked, light.gain, light.offset, this.residHist);
    const frameNoise = sampled === 0 ? 0 : MAD_TO_SIGMA * histogramQuantile(this.residuals, sampled, 0.5, 0.25, 0);
    const noise = Math.max(frameNoise, this.noise);
    const threshold = Math.max(tuning.thresholdFloor, tuning.noiseFactor * noise);
    const rawCount = classify(grid, regions.unmasked, light.gain, light.offset, threshold);
    this.diag = { noise, threshold, gain: light.gain, offset: light.offset, changedCells: 0, watchedCells: regions.watchedCount };
    if (light.step >= K.LIGHT_STEP || rawCount >= K.LIGHT_FRACTION * regions.unmaskedCount) {
      this.seed(atMs);
      this.holdUntil = atMs + K.LIGHT_HOLD_S * 1000;
      return quiet(true);
    }
    this.noise = this.noise < 0 ? frameNoise : this.noise + (1 - Math.exp(-dt / K.NOISE_TAU_S)) * (frameNoise - this.noise);

    const holding = atMs < this.holdUntil;
    const m = this.measure;
    measureAndUpdate(
      grid,
      regions.watched,
      regions.zoneBits,
      {
        gain: light.gain,
        offset: light.offset,
        dt,
        alpha: 1 - Math.exp(-dt / (holding ? K.LIGHT_HOLD_TAU_S : K.BACKGROUND_TAU_S)),
        absorb: 1 - Math.exp(-dt / K.ABSORB_TAU_S),
        absorbAfterS: K.ABSORB_AFTER_S,
        holding,
      },
      m,
    );
    this.learnBackgroundLevels();
    this.diag.changedCells = m.count;

    const watched = regions.watchedCount;
    const candidate = !holding && watched > 0 && m.count >= Math.max(K.MIN_CELLS, tuning.minArea * watched);
    this.run = candidate ? this.run + 1 : 0;
    const score = watched > 0 ? Math.min(1, m.count / watched) : 0;
    if (this.run < K.MIN_MOTION_FRAMES) return { moving: false, score, box: null, zones: [], lightChange: false };
    const f = this.factor;
    const box = { x: (m.minX * f) / this.width, y: (m.minY * f) / this.height, w: ((m.maxX + 1 - m.minX) * f) / this.width, h: ((m.maxY + 1 - m.minY) * f) / this.height };
    const zones = regions.zoneNames.filter((_, z) => (m.zones & (1 << z)) !== 0);
    return { moving: true, score, box, zones, lightChange: false };
  }

  /** Starts the background from the current frame: after warm-up, a gap or a light change. */
  private seed(atMs: number): void {
    this.grid.bg.set(this.grid.cur);
    this.grid.changedFor.fill(0);
    this.grid.prior.fill(Number.NaN);
    this.run = 0;
    this.seeded = true;
    this.lastAt = atMs;
    this.learnBackgroundLevels();
  }

  /**
   * Robust global light model between background and frame: the median difference among the
   * dark half of the background and among the bright half, as a line through the halves'
   * median levels. `step` is the larger of the two medians: how far the light moved.
   */
  private fitLight(): { gain: number; offset: number; step: number } {
    const { groups } = this;
    histogramDifferences(this.grid, this.regions.unmasked, this.bgSplit, this.diffHist, groups);
    const { dark: nDark, bright: nBright } = groups;
    const origin = -256;
    const dDark = nDark >= MIN_GROUP ? histogramQuantile(this.darkDiffs, nDark, 0.5, 0.5, origin) : Number.NaN;
    const dBright = nBright >= MIN_GROUP ? histogramQuantile(this.brightDiffs, nBright, 0.5, 0.5, origin) : Number.NaN;
    if (Number.isNaN(dDark) || Number.isNaN(dBright)) {
      const offset = Number.isNaN(dDark) ? (Number.isNaN(dBright) ? 0 : dBright) : dDark;
      return { gain: 1, offset, step: Math.abs(offset) };
    }
    const step = Math.max(Math.abs(dDark), Math.abs(dBright));
    const spread = this.bgBright - this.bgDark;
    if (spread < 4) return { gain: 1, offset: (dDark * nDark + dBright * nBright) / (nDark + nBright), step };
    const slope = Math.min(3, Math.max(-0.75, (dBright - dDark) / spread));
    return { gain: 1 + slope, offset: dDark - slope * this.bgDark, step };
  }

  /** The background's quartiles, for the next light fit. */
  private learnBackgroundLevels(): void {
    const n = histogramLevels(this.grid, this.regions.unmasked, this.bgHist);
    if (n === 0) return;
    this.bgDark = histogramQuantile(this.bgLevels, n, 0.25, 1, 0);
    this.bgSplit = histogramQuantile(this.bgLevels, n, 0.5, 1, 0);
    this.bgBright = histogramQuantile(this.bgLevels, n, 0.75, 1, 0);
  }
}

function quiet(lightChange: boolean): MotionResult {
  return { moving: false, score: 0, box: null, zones: [], lightChange };
}
