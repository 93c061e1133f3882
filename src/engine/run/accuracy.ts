// How far an approximate value is from the exact one: the numbers behind the editor's accuracy
// overlay and the compare node. Two arrays of numbers with their shapes in (tensors, or a metrics
// field such as perplexity per length), no knowledge of nodes; accumulated in float64.

/** What deviation reads: a tensor, or numbers laid out row-major in `shape`. */
export interface Shaped {
  shape: readonly number[];
  data: ArrayLike<number>;
}

export interface Deviation {
  /** a·b / (‖a‖·‖b‖); 1 when both are all zeros, 0 when only one is. */
  cosine: number;
  /** max |a − b|. */
  maxAbs: number;
  /** ‖a − b‖ / ‖b‖ (ℓ2 norms); ‖a‖ when b is all zeros (0 when both are). */
  relError: number;
  /** mean |a − b|. */
  meanAbs: number;
  /** √mean((a − b)²). */
  rmse: number;
  /** max |a − b| / max |b| (relative to b's range, so zeros in b do not blow it up); maxAbs when b is all zeros. */
  maxRel: number;
  elements: number;
}

/** Why two values cannot be compared element by element (different shapes), said rather than guessed. */
export interface Incomparable {
  incomparable: string;
}

/** Drops leading dimensions of 1, so [1, H, T, D] compares with [H, T, D]. */
const core = (shape: readonly number[]) => {
  let i = 0;
  while (i < shape.length - 1 && shape[i] === 1) i++;
  return shape.slice(i);
};

/** The deviation of `approx` from `exact`, or why they cannot be compared. */
export function deviation(approx: Shaped, exact: Shaped): Deviation | Incomparable {
  const sa = core(approx.shape);
  const sb = core(exact.shape);
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))
    return { incomparable: `shape [${approx.shape.join(', ')}] differs from the exact [${exact.shape.join(', ')}]` };
  let dot = 0;
  let na = 0;
  let nb = 0;
  let nd = 0;
  let sumAbs = 0;
  let maxB = 0;
  let maxAbs = 0;
  const a = approx.data;
  const b = exact.data;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const d = x - y;
    const ad = Math.abs(d);
    // NaN is the worst deviation, not one a comparison skips (and once seen it stays).
    if (ad > maxAbs || Number.isNaN(ad)) maxAbs = ad;
    sumAbs += ad;
    maxB = Math.max(maxB, Math.abs(y));
    dot += x * y;
    na += x * x;
    nb += y * y;
    nd += d * d;
  }
  return {
    cosine: na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : na === nb ? 1 : 0,
    maxAbs,
    relError: nb > 0 ? Math.sqrt(nd / nb) : Math.sqrt(nd),
    meanAbs: a.length ? sumAbs / a.length : 0,
    rmse: a.length ? Math.sqrt(nd / a.length) : 0,
    maxRel: maxB > 0 ? maxAbs / maxB : maxAbs,
    elements: a.length,
  };
}

export const isIncomparable = <T extends object>(d: T | Incomparable): d is Incomparable => 'incomparable' in d;
