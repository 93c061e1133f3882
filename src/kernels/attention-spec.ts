// What a fused attention kernel runs, independent of the backend (wasm SIMD or WGSL): the spec a
// variant compiles to (src/nodes/attention/fused.ts), the job list built from its block mask (a
// block of query rows × the key tiles it visits, each tile skipped, full or partial), and the
// rows a log-sum-exp merge combines (split-K partials, or spec.merge). The kernels differ only in how
// they run the jobs.

/**
 * A pair (i, j) of absolute positions passes when j < gcol, or i < grow, or −hi ≤ i − j ≤ lo.
 * Causal: {gcol 0, grow 0, lo ∞, hi 0}. Use POS_INF for "no limit".
 */
export interface BandRule {
  gcol: number;
  grow: number;
  lo: number;
  hi: number;
}
/** Passes when [qa[r], qb[r]] and [ka[j], kb[j]] intersect (r a query row, j a key index). */
export interface IntervalRule {
  qa: Int32Array;
  qb: Int32Array;
  ka: Int32Array;
  kb: Int32Array;
}
/** Adds qw[r]·kw[j] to the score (natural-log units). */
export interface Rank1Rule {
  qw: Float32Array;
  kw: Float32Array;
}

export const POS_INF = 0x3fffffff;

export interface FusedAttentionSpec {
  /** [H, Tq, D], [Hkv, Tk, D], [Hkv, Tk, Dv]; Hkv divides H (query head h reads kv head ⌊h/(H/Hkv)⌋). */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
  scale: number;
  /** Absolute positions of query rows (default Tk − Tq + r) and keys (default j). */
  qpos?: Int32Array;
  kpos?: Int32Array;
  bands?: BandRule[];
  intervals?: IntervalRule[];
  rank1?: Rank1Rule[];
  /** ALiBi slope per query head: adds −m·(i − j). */
  slopes?: Float64Array | number[];
  /**
   * ALiBi slope per query row instead (a call whose rows come from several heads, e.g. dilated's
   * sub-sequences): every query block's rows must share one (the kernels read each job's first row).
   */
  rowSlopes?: Float32Array;
  /** Query rows per job and keys per tile (a multiple of 8). */
  blockQ?: number;
  blockK?: number;
  /**
   * Query blocks: row ranges [r0, r0 + rows) covering 0..Tq−1 (default: blocks of blockQ) and, per
   * block and head, the key tiles it may visit (default all; the rules then skip or mask them).
   */
  queryBlocks?: { r0: number; rows: number }[];
  tilesOf?(h: number, r0: number, rows: number): Iterable<number>;
  /** Split-K (Flash-Decoding): each block's tiles are cut into this many jobs, merged by log-sum-exp. */
  splits?: number;
  /**
   * A scheduling knob of the kernel, not of the variant: a block's tiles are cut into jobs of at most
   * this many, merged by log-sum-exp as split-K's are (a GPU runs a job's tiles in sequence on one
   * workgroup, so one long job — a global row that sees every key — would set the run's time).
   */
  maxTilesPerJob?: number;
  /**
   * Gathered inputs: Q row x of the call is row qRows[x] of `q` (rows of D floats), key j row
   * kRows[j] of `k` and `v`; −1 is a zero row. Lets a variant run on a selection of rows without
   * building the gathered copies (the wasm kernel gathers into its own memory). A kernel that does
   * not gather gets the copies from gatherRows.
   */
  qRows?: Int32Array;
  kRows?: Int32Array;
  /**
   * What a row does with its scores (after the bias and the mask): 'softmax' (default), or 'relu' —
   * ReLU attention, out_i = Σ_j relu(s_ij)·v_j / n_i over the n_i keys row i sees (0 when none). Same
   * block mask, rules, layouts and split-K (its parts merge by their counts); lse is then ln n_i.
   */
  score?: 'softmax' | 'relu';
  /**
   * Rows merged by log-sum-exp after the jobs, in the kernel (a query that runs over several
   * sub-sequences of one call, e.g. LongNet's dilation pairs): result row x merges the call's rows
   * (h·Tq + r) listed at index[x·(1 + parts) + 1 …], as many as index[x·(1 + parts)]; weights
   * e^(lse − max), so O = Σ e^(lse_s)·O_s / Σ e^(lse_s). The result then has `rows` rows. Not with
   * split-K.
   */
  merge?: MergeIndex;
}

/** Per output row: its number of parts, then that many row numbers (a fixed stride of 1 + parts). */
export interface MergeIndex {
  rows: number;
  parts: number;
  index: Int32Array;
}

/** The merge of a split-K plan (each head and block's parts) or of spec.merge; undefined when neither. */
export function mergeIndexOf(spec: FusedAttentionSpec, plan: JobPlan): MergeIndex | undefined {
  if (spec.merge && !plan.direct) throw new Error('fused attention: split-K and merged rows cannot be combined in one call');
  if (spec.merge) return spec.merge;
  if (plan.direct) return undefined;
  const rows = spec.H * spec.Tq;
  const parts = Math.max(1, ...plan.splitRows.map((b) => b.parts.length));
  const index = new Int32Array(rows * (1 + parts));
  for (const { h, r0, rows: n, parts: ps } of plan.splitRows)
    for (let r = 0; r < n; r++) {
      const at = (h * spec.Tq + r0 + r) * (1 + parts);
      index[at] = ps.length;
      ps.forEach((p, x) => (index[at + 1 + x] = p + r));
    }
  return { rows, parts, index };
}

/** Rows rows[x] of src (n floats each; −1: zeros) as one array. */
export function gatherRows(src: Float32Array, rows: Int32Array, n: number): Float32Array {
  const out = new Float32Array(rows.length * n);
  forEachRun(rows, (a, b) => out.set(src.subarray(rows[a]! * n, (rows[b - 1]! + 1) * n), a * n));
  return out;
}

/** Calls f(a, b) for each maximal run a..b−1 of consecutive row indices (−1 rows are skipped). */
export function forEachRun(rows: Int32Array, f: (a: number, b: number) => void): void {
  for (let a = 0; a < rows.length; ) {
    let b = a + 1;
    if (rows[a]! >= 0) {
      while (b < rows.length && rows[b] === rows[b - 1]! + 1) b++;
      f(a, b);
    }
    a = b;
  }
}

/** The spec with its gathered rows materialised (for a kernel that reads q, k, v as given). */
export function withGatheredRows(spec: FusedAttentionSpec): FusedAttentionSpec {
  if (!spec.qRows && !spec.kRows) return spec;
  return {
    ...spec,
    q: spec.qRows ? gatherRows(spec.q, spec.qRows, spec.D) : spec.q,
    k: spec.kRows ? gatherRows(spec.k, spec.kRows, spec.D) : spec.k,
    v: spec.kRows ? gatherRows(spec.v, spec.kRows, spec.Dv) : spec.v,
    qRows: undefined,
    kRows: undefined,
  };
}

export interface FusedAttentionResult {
  /** [H, Tq, Dv] */
  out: Float32Array;
  /** Natural log-sum-exp of each row's scores (−∞ where a row sees no key): [H, Tq]. ReLU: ln of the keys it sees. */
  lse: Float32Array;
  /** Score tiles computed / in the dense grid (all heads), and bytes of kernel memory outside tfjs (wasm memory; 0 for WGSL, whose buffers are tfjs tensors). */
  tilesComputed: number;
  tilesTotal: number;
  bytes: number;
  /** Milliseconds laying out the inputs and building jobs, and running the jobs. */
  prepMs: number;
  kernelMs: number;
}

/** A job: rows r0..r0+rows−1 of head h over the tiles `codes` (t·4 + TileKind), written at row out0. */
export interface Job {
  h: number;
  r0: number;
  rows: number;
  codes: number[];
  out0: number;
}

export interface JobPlan {
  Bq: number;
  Bk: number;
  /** Key tiles, and keys padded to whole tiles. */
  nT: number;
  TkP: number;
  qpos: Int32Array;
  /** Key positions padded with −1 to TkP. */
  kposP: Int32Array;
  blocks: { r0: number; rows: number }[];
  /** Longest first (threads taking jobs from a shared counter then finish together). */
  jobs: Job[];
  nTiles: number;
  /** Output rows: H·Tq when direct, else one row per (job, row) of the splits. */
  outRows: number;
  direct: boolean;
  /** Split-K: the output rows of each (head, block)'s parts (merged as mergeIndexOf lists them). */
  splitRows: { h: number; r0: number; rows: number; parts: number[] }[];
  tilesComputed: number;
  tilesTotal: number;
}

const SKIP = -1;
/**
 * How a kernel treats a tile (the low 2 bits of a tile code): every pair passes (no mask); some
 * pairs are masked, by any rule; or the interval rules pass everywhere in it and there is no rank-1
 * term, so only the band rules (and padding) need evaluating per pair — e.g. the causal diagonal of
 * a segment-masked tile (dilated attention's diagonal tiles).
 */
export const TileKind = { FULL: 0, PARTIAL: 1, BANDS: 3 } as const;
const { FULL, PARTIAL, BANDS } = TileKind;

/** Min and max of a[lo..hi) ignoring −1 (padding); [POS_INF, −1] when empty. */
function range(a: Int32Array, lo: number, hi: number): [number, number] {
  let mn = POS_INF;
  let mx = -1;
  for (let x = lo; x < hi; x++) {
    const v = a[x]!;
    if (v < 0) continue;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

function minMax(a: Int32Array, lo: number, hi: number): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let x = lo; x < hi; x++) {
    const v = a[x]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

/** The jobs of a spec: its block mask evaluated per (query block, key tile), empty tiles dropped. */
export function planJobs(spec: FusedAttentionSpec): JobPlan {
  const { H, Hkv, Tq, Tk } = spec;
  if (H % Hkv !== 0) throw new Error(`fused attention: ${Hkv} kv heads do not divide ${H} heads`);
  const Bq = spec.blockQ ?? 64;
  const Bk = spec.blockK ?? 64;
  if (Bk % 8 !== 0 || Bk < 8) throw new Error(`fused attention: keys per tile must be a multiple of 8, got ${Bk}`);
  const nT = Math.max(1, Math.ceil(Tk / Bk));
  const TkP = nT * Bk;
  const bands = spec.bands ?? [];
  const intervals = spec.intervals ?? [];
  const rank1 = spec.rank1 ?? [];
  const qpos = spec.qpos ?? Int32Array.from({ length: Tq }, (_, r) => Tk - Tq + r);
  const kposIn = spec.kpos ?? Int32Array.from({ length: Tk }, (_, j) => j);
  const blocks = spec.queryBlocks ?? Array.from({ length: Math.ceil(Tq / Bq) }, (_, b) => ({ r0: b * Bq, rows: Math.min(Bq, Tq - b * Bq) }));
  const splits = Math.max(1, spec.splits ?? 1);
  if (spec.slopes && spec.rowSlopes) throw new Error('fused attention: slopes per head and per row cannot be combined');
  if (spec.rowSlopes)
    for (const { r0, rows } of blocks)
      for (let r = r0; r < r0 + rows; r++)
        if (spec.rowSlopes[r] !== spec.rowSlopes[r0]) throw new Error(`fused attention: query rows ${r0} and ${r} of one block have different ALiBi slopes`);

  // Per-tile summaries: key position range, padding, interval ranges.
  const kposP = new Int32Array(TkP).fill(-1);
  kposP.set(kposIn);
  const tileK = Array.from({ length: nT }, (_, t) => range(kposP, t * Bk, (t + 1) * Bk));
  const padded = (t: number) => (t + 1) * Bk > Tk;
  const ivTile = intervals.map((iv) => Array.from({ length: nT }, (_, t) => ({ ka: minMax(iv.ka, t * Bk, Math.min(Tk, (t + 1) * Bk)), kb: minMax(iv.kb, t * Bk, Math.min(Tk, (t + 1) * Bk)) })));

  function classify(qr: [number, number], ivq: { qa: [number, number]; qb: [number, number] }[], t: number): number {
    const [kmin, kmax] = tileK[t]!;
    if (kmax < 0) return SKIP;
    const [qmin, qmax] = qr;
    let full = !padded(t) && rank1.length === 0;
    let bandsOnly = rank1.length === 0;
    for (const b of bands) {
      const none = kmin >= b.gcol && qmin >= b.grow && (qmin - kmax > b.lo || kmin - qmax > b.hi);
      if (none) return SKIP;
      const all = kmax < b.gcol || qmax < b.grow || (qmax - kmin <= b.lo && kmax - qmin <= b.hi);
      if (!all) full = false;
    }
    for (let x = 0; x < intervals.length; x++) {
      const { ka, kb } = ivTile[x]![t]!;
      const { qa, qb } = ivq[x]!;
      if (kb[1] < qa[0] || qb[1] < ka[0]) return SKIP;
      if (!(Math.max(qa[1], ka[1]) <= Math.min(qb[0], kb[0]))) full = bandsOnly = false;
    }
    return full ? FULL : bandsOnly ? BANDS : PARTIAL;
  }

  const jobs: Job[] = [];
  const cap = spec.maxTilesPerJob;
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) throw new Error(`fused attention: maxTilesPerJob must be a positive integer, got ${cap}`);
  const direct = splits === 1 && cap === undefined;
  let outRows = direct ? H * Tq : 0;
  const splitRows: JobPlan['splitRows'] = [];
  let computed = 0;
  for (const { r0, rows } of blocks) {
    const qr = range(qpos, r0, r0 + rows);
    const ivq = intervals.map((iv) => ({ qa: minMax(iv.qa, r0, r0 + rows), qb: minMax(iv.qb, r0, r0 + rows) }));
    // The rules do not depend on the head: classify once unless the variant lists tiles per head.
    let shared: number[] | undefined;
    for (let h = 0; h < H; h++) {
      let codes = shared;
      if (!codes) {
        codes = [];
        for (const t of spec.tilesOf ? spec.tilesOf(h, r0, rows) : Array.from({ length: nT }, (_, t) => t)) {
          const c = classify(qr, ivq, t);
          if (c !== SKIP) codes.push(t * 4 + c);
        }
        if (!spec.tilesOf) shared = codes;
      }
      computed += codes.length;
      if (direct) {
        jobs.push({ h, r0, rows, codes, out0: h * Tq + r0 });
        continue;
      }
      const parts: number[] = [];
      const per = Math.min(Math.ceil(codes.length / splits), cap ?? Infinity);
      for (let s = 0; s < Math.max(1, Math.ceil(codes.length / Math.max(1, per))); s++) {
        jobs.push({ h, r0, rows, codes: codes.slice(s * per, (s + 1) * per), out0: outRows });
        parts.push(outRows);
        outRows += rows;
      }
      splitRows.push({ h, r0, rows, parts });
    }
  }
  jobs.sort((a, b) => b.codes.length - a.codes.length);
  const nTiles = jobs.reduce((n, j) => n + j.codes.length, 0);
  return { Bq, Bk, nT, TkP, qpos, kposP, blocks, jobs, nTiles, outRows, direct, splitRows, tilesComputed: computed, tilesTotal: H * blocks.length * nT };
}
