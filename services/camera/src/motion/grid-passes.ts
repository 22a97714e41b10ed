// The motion detector's per-frame passes over its analysis grid. Hot loops: typed arrays only,
// no allocation, and no branches on the data where the data is noise (signs, dark/bright), as
// a mispredicted branch per cell costs more than the arithmetic. Histogram bins are laid out so
// masked cells land in an upper half that is never read, instead of being skipped.

/** The detector's working state on its analysis grid of `width` × `height` cells. */
export interface Grid {
  width: number;
  height: number;
  /** The frame, block-averaged: grey levels 0..255. */
  cur: Float32Array;
  /** The background, grey levels 0..255. */
  bg: Float32Array;
  /** 1 where |frame − background| is over the threshold (never in masked cells). */
  changed: Uint8Array;
  /** Horizontal 3-sums of `changed`, with a zero row above and below (index = cell + width). */
  rowSum: Uint8Array;
  /** Seconds each cell has been changed without a break. */
  changedFor: Float32Array;
  /** What the background was before something that stopped there was absorbed; NaN when nothing was. */
  prior: Float32Array;
}

export function createGrid(width: number, height: number): Grid {
  const cells = width * height;
  return { width, height, cur: new Float32Array(cells), bg: new Float32Array(cells), changed: new Uint8Array(cells), rowSum: new Uint8Array(cells + 2 * width), changedFor: new Float32Array(cells), prior: new Float32Array(cells).fill(Number.NaN) };
}

/** Block-averages a frame `frameWidth` pixels wide into `grid.cur`, `factor` × `factor` pixels per cell. */
export function downsample(frame: Uint8Array, frameWidth: number, factor: number, grid: Grid): void {
  const { width: gw, height: gh, cur } = grid;
  if (factor === 2) {
    for (let gy = 0, o = 0; gy < gh; gy++) {
      let p = gy * 2 * frameWidth;
      let q = p + frameWidth;
      for (let gx = 0; gx < gw; gx++, o++, p += 2, q += 2) cur[o] = (frame[p]! + frame[p + 1]! + frame[q]! + frame[q + 1]!) * 0.25;
    }
    return;
  }
  const scale = 1 / (factor * factor);
  for (let gy = 0, o = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++, o++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (gy * factor + dy) * frameWidth + gx * factor;
        for (let dx = 0; dx < factor; dx++) sum += frame[row + dx]!;
      }
      cur[o] = sum * scale;
    }
  }
}

/**
 * Histograms only look at every SAMPLE_STRIDE-th cell: 3600 samples at 160×90 put a median
 * within a few hundredths of σ, and histogram increments are the slowest thing here (runs of
 * equal bins in a smooth image serialise on the same counter).
 */
export const SAMPLE_STRIDE = 4;

/** Bins of `DIFF_HIST`: frame − background in half levels, bin = 2 × diff + 512. Bright half [0, 1024), dark half [1024, 2048). */
export const DIFF_BINS = 1024;
export const DIFF_HIST = 4 * DIFF_BINS;

/**
 * Histograms frame − background over sampled unmasked cells, separately for cells whose
 * background is darker than `split` and the rest; counts both groups into `counts`.
 */
export function histogramDifferences(grid: Grid, unmasked: Uint8Array, split: number, hist: Uint32Array, counts: { dark: number; bright: number }): void {
  const { cur, bg } = grid;
  const splitLevel = Math.round(split);
  hist.fill(0);
  let dark = 0;
  let all = 0;
  for (let i = 0; i < cur.length; i += SAMPLE_STRIDE) {
    const b = bg[i]!;
    const u = unmasked[i]!;
    const isDark = ((b | 0) - splitLevel) >>> 31;
    hist[(((cur[i]! - b) * 2 + 512) | 0) + (isDark << 10) + ((1 - u) << 11)]!++;
    dark += isDark & u;
    all += u;
  }
  counts.dark = dark;
  counts.bright = all - dark;
}

/** Bins of `RESID_HIST`: |residual| in quarter levels, [0, 1024); masked cells above. */
export const RESID_BINS = 1024;
export const RESID_HIST = 2 * RESID_BINS;

/**
 * Histograms |frame − (gain × background + offset)| over sampled unmasked cells, for the
 * noise estimate; returns how many cells it counted.
 */
export function histogramResiduals(grid: Grid, unmasked: Uint8Array, gain: number, offset: number, hist: Uint32Array): number {
  const { cur, bg } = grid;
  hist.fill(0);
  let n = 0;
  for (let i = 0; i < cur.length; i += SAMPLE_STRIDE) {
    let p = gain * bg[i]! + offset;
    p = p < 0 ? 0 : p > 255 ? 255 : p;
    const u = unmasked[i]!;
    hist[((Math.abs(cur[i]! - p) * 4) | 0) + ((1 - u) << 10)]!++;
    n += u;
  }
  return n;
}

/**
 * Marks `changed` where |frame − (gain × background + offset)| exceeds `threshold` (unmasked
 * cells only), fills `rowSum` (first half of the 3×3 majority despeckle), restarts the
 * changed-for clock of cells that stopped changing, and returns how many cells changed.
 *
 * A changed cell that matches its `prior` is the old scene coming back where something had
 * stopped and been absorbed (a parked car driving off): it takes the frame as background at
 * once instead of showing the "ghost" as motion until that is absorbed too.
 */
export function classify(grid: Grid, unmasked: Uint8Array, gain: number, offset: number, threshold: number): number {
  const { width: gw, height: gh, cur, bg, changed, rowSum, changedFor, prior } = grid;
  let count = 0;
  for (let y = 0; y < gh; y++) {
    const row = y * gw;
    const out = row + gw;
    let left = 0;
    let here = 0;
    for (let x = 0; x < gw; x++) {
      const i = row + x;
      let p = gain * bg[i]! + offset;
      p = p < 0 ? 0 : p > 255 ? 255 : p;
      let c = Math.abs(cur[i]! - p) > threshold ? unmasked[i]! : 0;
      if (c === 1 && Math.abs(cur[i]! - prior[i]!) <= threshold) {
        c = 0;
        bg[i] = (cur[i]! - offset) / gain;
        prior[i] = Number.NaN;
      }
      if (c === 0 && changed[i] === 1) changedFor[i] = 0;
      changed[i] = c;
      count += c;
      // rowSum of the previous cell, now that its right-hand neighbour is known.
      if (x > 0) rowSum[out + x - 1] = left + here + c;
      left = here;
      here = c;
    }
    rowSum[out + gw - 1] = left + here;
  }
  return count;
}

/** Histograms the background's grey levels over sampled cells (512 bins, masked cells in the upper half). */
export function histogramLevels(grid: Grid, unmasked: Uint8Array, hist: Uint32Array): number {
  const { bg } = grid;
  hist.fill(0);
  let n = 0;
  for (let i = 0; i < bg.length; i += SAMPLE_STRIDE) {
    const u = unmasked[i]!;
    hist[(bg[i]! | 0) + ((1 - u) << 8)]!++;
    n += u;
  }
  return n;
}

/** Where the despeckled change is: cell counts and bounds on the grid, and the zones touched as bits. */
export interface Measure {
  count: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  zones: number;
}

/** How the background moves this frame: the light model, then running averages. */
export interface Update {
  gain: number;
  offset: number;
  /** Seconds since the last frame. */
  dt: number;
  /** Blend factor for cells that did not change. */
  alpha: number;
  /** Blend factor for changed cells that have been changed for `absorbAfterS`. */
  absorb: number;
  absorbAfterS: number;
  /** After a light change: every cell blends with `alpha`, changed or not. */
  holding: boolean;
}

/**
 * One pass that (a) finishes the despeckle — a watched cell counts when at least 5 of its 3×3
 * neighbourhood changed — and measures the result into `m`, and (b) updates the background
 * (see {@link Update}).
 */
export function measureAndUpdate(grid: Grid, watched: Uint8Array, zoneBits: Uint16Array, u: Update, m: Measure): void {
  const { width: gw, height: gh, cur, bg, changed, rowSum, changedFor, prior } = grid;
  const { gain, offset, dt, alpha, absorb, absorbAfterS, holding } = u;
  m.count = 0;
  m.minX = gw;
  m.minY = gh;
  m.maxX = -1;
  m.maxY = -1;
  m.zones = 0;
  for (let y = 0, i = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++, i++) {
      let p = gain * bg[i]! + offset;
      p = p < 0 ? 0 : p > 255 ? 255 : p;
      const c = cur[i]!;
      if (changed[i] === 0) {
        p += alpha * (c - p);
      } else if (holding) {
        changedFor[i] = 0;
        p += alpha * (c - p);
      } else {
        const t = changedFor[i]! + dt;
        changedFor[i] = t;
        if (t >= absorbAfterS) {
          if (t - dt < absorbAfterS) prior[i] = p;
          p += absorb * (c - p);
        }
      }
      bg[i] = p;
      if (watched[i] === 1 && rowSum[i]! + rowSum[i + gw]! + rowSum[i + 2 * gw]! >= 5) {
        m.count++;
        if (x < m.minX) m.minX = x;
        if (x > m.maxX) m.maxX = x;
        if (y < m.minY) m.minY = y;
        m.maxY = y;
        m.zones |= zoneBits[i]!;
      }
    }
  }
}
