/**
 * The `q` quantile (0..1) of values counted in `hist`, where bin i holds values in
 * [i × binWidth + origin, (i + 1) × binWidth + origin), interpolated linearly inside the bin.
 * `total` is the sum of the bins (the caller counted them while filling). NaN when empty.
 */
export function histogramQuantile(hist: Uint32Array, total: number, q: number, binWidth: number, origin: number): number {
  if (total <= 0) return Number.NaN;
  const target = q * total;
  let below = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i]!;
    if (n > 0 && below + n >= target) return origin + (i + (target - below) / n) * binWidth;
    below += n;
  }
  return origin + hist.length * binWidth;
}
