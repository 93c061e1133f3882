// The sweep view's values field: "1024, 2048", "1K..64K" (doubling) or "1K..64K x4". The fit of a
// sweep (the exponent) is src/engine/run/sweep.ts, shared with `ctxlab sweep`.

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
