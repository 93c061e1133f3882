// Least-squares fit of log y = a + b·log x: the slope b is the empirical exponent of a sweep
// (≈1 for O(N), ≈2 for O(N²)).

export interface PowerFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination in log-log space. */
  r2: number;
  n: number;
}

export function fitLogLog(xs: readonly number[], ys: readonly number[]): PowerFit | null {
  const pts: [number, number][] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!;
    const y = ys[i]!;
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
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2, n };
}

/** Parses sweep values: "1024, 2048, 4096", "1K..64K" (doubling) or "1K..64K x4". */
export function parseSweepValues(text: string): number[] {
  const t = text.trim();
  const num = (s: string) => {
    const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(s.trim());
    if (!m) throw new Error(`"${s.trim()}" is not a number`);
    const unit = m[2]!.toLowerCase();
    return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  };
  const range = /^(.+?)\s*(?:\.\.|…)\s*(.+?)(?:\s*[x×*]\s*(\d+(?:\.\d+)?))?$/.exec(t);
  if (range) {
    const from = num(range[1]!);
    const to = num(range[2]!);
    const step = range[3] ? Number(range[3]) : 2;
    if (!(step > 1)) throw new Error('the step of a range must be > 1');
    if (from <= 0 || to < from) throw new Error('a range goes from a positive value up');
    const out: number[] = [];
    for (let v = from; v <= to * (1 + 1e-9); v *= step) out.push(Math.round(v * 1e6) / 1e6);
    if (out.length > 64) throw new Error('at most 64 values');
    return out;
  }
  const vals = t.split(/[\s,;]+/).filter(Boolean).map(num);
  if (!vals.length) throw new Error('no values');
  return vals;
}
