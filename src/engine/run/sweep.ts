// The fitted exponent of a sweep: how a node's time or memory grows with the swept value (≈1 for
// O(N), ≈2 for O(N²)). One rule for `ctxlab sweep` and the editor's sweep view, so the same sweep
// reports the same exponent in both.

export interface PowerFit {
  /** b in log y = a + b·log x. */
  slope: number;
  intercept: number;
  /** Coefficient of determination in log-log space. */
  r2: number;
  /** Points used. */
  n: number;
}

/** Least-squares fit of log y = a + b·log x over the points with finite x > 0 and y > 0; null with fewer than 2 or one x. */
export function fitLogLog(xs: readonly number[], ys: readonly number[]): PowerFit | null {
  const pts: [number, number][] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const [x, y] = [xs[i]!, ys[i]!];
    if (x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) pts.push([Math.log(x), Math.log(y)]);
  }
  const n = pts.length;
  if (n < 2) return null;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), n };
}

/** Fewer points than this give no exponent: two points always fit a line exactly, whatever the noise. */
export const MIN_SWEEP_POINTS = 3;
/** Times under this (ms) are timer noise: a node whose every time is under it gets no time exponent. */
export const MIN_SWEEP_MS = 0.05;

/** A sweep's exponent for one node and figure, or why there is none. */
export type SweepSlope = { slope: number; why?: undefined } | { slope: null; why: string };

/**
 * The exponent of `ys` against the swept values `xs` (null when the values are not numbers), from at
 * least MIN_SWEEP_POINTS points. `floor`: figures all under it are noise (MIN_SWEEP_MS for times).
 */
export function sweepSlope(xs: readonly number[] | null, ys: readonly number[], floor = 0): SweepSlope {
  if (!xs) return { slope: null, why: 'the swept values are not numbers' };
  const measured = ys.filter((y) => y > 0 && Number.isFinite(y));
  if (measured.length < MIN_SWEEP_POINTS) return { slope: null, why: `fewer than ${MIN_SWEEP_POINTS} points (finished runs with a figure above 0)` };
  if (measured.every((y) => y < floor)) return { slope: null, why: `every time under ${floor} ms` };
  const fit = fitLogLog(xs, ys);
  return fit && fit.n >= MIN_SWEEP_POINTS ? { slope: fit.slope } : { slope: null, why: 'the swept values must be positive and differ' };
}
