// Host side of the fused wasm-SIMD attention kernel (attention.c): lays the inputs out in one
// shared WebAssembly.Memory, builds the job list (a block of query rows × the key tiles it visits,
// each tile classified skip / full / partial from the mask rules), runs the jobs on this thread and
// on the wasm kernel thread pool (pool.ts: the same module over the same memory), and reads back O
// and the per-row log-sum-exp. Knows nothing of nodes: src/nodes/attention/fused.ts compiles a
// variant into a FusedAttentionSpec.
import { attentionWasmBase64 } from './attention.wasm.js';
import { exclusive, kernelThreads, runOnPool, sharedKernel, type SharedKernel, type ThreadOptions } from './pool.js';

import { mergeIndexOf, planJobs, POS_INF, type FusedAttentionResult, type FusedAttentionSpec } from '../attention-spec.js';

export { POS_INF };
export type { BandRule, FusedAttentionResult, FusedAttentionSpec, IntervalRule, MergeIndex, Rank1Rule } from '../attention-spec.js';

export { closeKernelPool, KERNEL_WORKER_NAME, kernelThreads, setWasmKernelThreads, singleThreadReason, unsharedMemoryImport } from './pool.js';

/** Threads, tick (at least every ~50 ms; may throw to cancel), fallback (fewer threads than asked, and why). */
export type RunOptions = ThreadOptions;

const LOG2E = Math.LOG2E;
const CONFIG_INTS = 22;
const JOB_INTS = 8;

/** Totals over every call since the last reset (benchmarks read them; the kernel does not). */
export const kernelStats = { calls: 0, tilesComputed: 0, tilesTotal: 0, prepMs: 0, kernelMs: 0 };
export function resetKernelStats(): void {
  Object.assign(kernelStats, { calls: 0, tilesComputed: 0, tilesTotal: 0, prepMs: 0, kernelMs: 0 });
}

/** The kernel's module over its shared memory and this thread's instance. */
type Kernel = SharedKernel<{
  run_range(cfg: number, jobs: number, tiles: number, j0: number, j1: number, scratch: number): void;
  run_queue(cfg: number, jobs: number, tiles: number, n: number, counter: number, cancel: number, scratch: number): number;
  exp2_array(ptr: number, n: number): void;
  scale(ptr: number, n: number, c: number): void;
  pack_kt(k: number, kt: number, Hkv: number, Tk: number, D: number, Bk: number, nT: number): void;
  merge_rows(index: number, rows: number, S: number, O: number, ML: number, Dv: number, out: number, mlOut: number): void;
  gather_rows(src: number, n: number, rows: number, count: number, dst: number, dstN: number): void;
  peak(iters: number): number;
  peak_flops_per_iter(): number;
  __heap_base: WebAssembly.Global;
}>;

const attentionKernel = sharedKernel<Kernel['exports']>(attentionWasmBase64, 'fused wasm attention kernel', 32);
export const loadKernel = (): Kernel => attentionKernel.load();

/** Why the kernel cannot run here, or undefined when it can. */
export function wasmKernelUnavailable(): string | undefined {
  return attentionKernel.unavailable();
}

/** Bump allocator over the shared memory, reset per call; grows the memory as needed. */
class Arena {
  private top: number;
  constructor(private k: Kernel) {
    this.top = k.heapBase;
  }
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 63) & ~63;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need <= 0) return at;
    try {
      this.k.memory.grow(Math.ceil(need / 65536));
    } catch {
      throw new Error(`fused wasm attention needs ${(this.top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB): use fewer heads or a shorter sequence per node`);
    }
    return at;
  }
  get used() {
    return this.top - this.k.heapBase;
  }
  f32(at: number, n: number) {
    return new Float32Array(this.k.memory.buffer, at, n);
  }
  i32(at: number, n: number) {
    return new Int32Array(this.k.memory.buffer, at, n);
  }
}

// ---- the call ----

/** Runs attention as specified; resolves when every job is done. */
export function fusedAttention(spec: FusedAttentionSpec, opts: RunOptions = {}): Promise<FusedAttentionResult> {
  return exclusive(() => runLocked(spec, opts));
}

async function runLocked(spec: FusedAttentionSpec, opts: RunOptions): Promise<FusedAttentionResult> {
  const k = loadKernel();
  const t0 = performance.now();
  const { H, Hkv, Tq, Tk, D, Dv } = spec;
  const plan = planJobs(spec);
  const { Bk, nT, TkP, qpos, kposP, blocks, outRows, nTiles, tilesComputed: computed } = plan;
  // Split-K parts or spec.merge: rows merged by log-sum-exp after the jobs; R rows come back.
  const merge = mergeIndexOf(spec, plan);
  const R = merge ? merge.rows : H * Tq;
  const jobList = plan.jobs;
  const DvP = Math.ceil(Dv / 8) * 8;
  const bands = spec.bands ?? [];
  const intervals = spec.intervals ?? [];
  const rank1 = spec.rank1 ?? [];
  const threads = await kernelThreads(opts.threads);

  // Layout in the shared memory.
  const arena = new Arena(k);
  const maxRows = Math.max(4, ...blocks.map((b) => Math.ceil(b.rows / 4) * 4));
  // Per-thread scratch, padded to whole cache lines so threads never share one.
  const scratchFloats = Math.ceil((4 * Bk + 4 + maxRows * DvP + 2 * maxRows) / 16) * 16;
  const pQ = arena.alloc(H * Tq * D * 4);
  const pK = arena.alloc(Hkv * Tk * D * 4); // K as given, before pack_kt
  const pKt = arena.alloc(Hkv * nT * D * Bk * 4);
  const pV = arena.alloc(Hkv * TkP * DvP * 4);
  const pO = arena.alloc(outRows * DvP * 4);
  const pML = arena.alloc(outRows * 2 * 4);
  const pQpos = arena.alloc(Tq * 4);
  const pKpos = arena.alloc(TkP * 4);
  const slopes = spec.rowSlopes ?? spec.slopes;
  const pSlopes = slopes ? arena.alloc(slopes.length * 4) : 0;
  const pBand = arena.alloc(Math.max(1, bands.length) * 16);
  const pIv = arena.alloc(Math.max(1, intervals.length) * 16);
  const ivArrays = intervals.map((iv) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(Tq * 4), arena.alloc(TkP * 4), arena.alloc(TkP * 4)];
    arena.i32(at[0]!, Tq).set(iv.qa.subarray(0, Tq));
    arena.i32(at[1]!, Tq).set(iv.qb.subarray(0, Tq));
    arena.i32(at[2]!, TkP).set(iv.ka.subarray(0, Tk));
    arena.i32(at[3]!, TkP).set(iv.kb.subarray(0, Tk));
    return at;
  });
  const pR1 = arena.alloc(Math.max(1, rank1.length) * 8);
  const r1Arrays = rank1.map((r) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(TkP * 4)];
    arena.f32(at[0]!, Tq).set(r.qw.subarray(0, Tq));
    arena.f32(at[1]!, TkP).set(r.kw.subarray(0, Tk).map((w) => w * LOG2E));
    return at;
  });
  const pCfg = arena.alloc(CONFIG_INTS * 4);
  const pJobs = arena.alloc(jobList.length * JOB_INTS * 4);
  const pTiles = arena.alloc(Math.max(1, nTiles) * 4);
  const pSync = arena.alloc(8); // job counter, cancel flag
  const pScratch = arena.alloc(Math.max(1, threads) * scratchFloats * 4);
  // Merged rows ([R][DvP] and their (m, ℓ)) and the index of the rows each merges.
  const pMerged = merge ? arena.alloc(R * DvP * 4) : pO;
  const pMergedML = merge ? arena.alloc(R * 2 * 4) : pML;
  const pIndex = merge ? arena.alloc(merge.index.length * 4) : 0;

  // Q pre-scaled into the log2 domain; K transposed into [D][Bk] tiles; V padded to DvP columns
  // and TkP rows (zeros: padded keys get P = 0, and 0·0 stays 0). Whole-array sets: element-wise
  // reads and writes of a SharedArrayBuffer's typed array are ~10× slower than a set in V8.
  const x = k.exports;
  // Gathered or padded rows (spec.qRows/kRows; V's padding to DvP columns and TkP rows): the source
  // goes in with one set, into a staging area, and the kernel's gather_rows lays out the rows (a set
  // per row costs ~1 µs, which for a dilated selection was most of the layout time).
  const stage = spec.qRows || spec.kRows || DvP !== Dv || TkP !== Tk ? arena.alloc(Math.max(spec.q.length, spec.k.length, spec.v.length) * 4) : 0;
  const pRows = stage ? arena.alloc(Math.max(H * Tq, Hkv * TkP) * 4) : 0;
  const put = (dst: number, src: Float32Array, rows: Int32Array | undefined, n: number, count: number, dstN = n) => {
    if (!rows && dstN === n) return arena.f32(dst, count * n).set(src.subarray(0, count * n));
    arena.f32(stage, src.length).set(src);
    arena.i32(pRows, count).set(rows ?? Int32Array.from({ length: count }, (_, a) => a));
    x.gather_rows(stage, n, pRows, count, dst, dstN);
  };
  put(pQ, spec.q, spec.qRows, D, H * Tq);
  x.scale(pQ, H * Tq * D, LOG2E * spec.scale);
  put(pK, spec.k, spec.kRows, D, Hkv * Tk);
  x.pack_kt(pK, pKt, Hkv, Tk, D, Bk, nT);
  if (!spec.kRows && TkP === Tk) put(pV, spec.v, undefined, Dv, Hkv * Tk, DvP);
  else {
    // V rows per kv head, padded to TkP (−1: zero rows).
    const vRows = new Int32Array(Hkv * TkP).fill(-1);
    for (let g = 0; g < Hkv; g++) for (let j = 0; j < Tk; j++) vRows[g * TkP + j] = spec.kRows ? spec.kRows[g * Tk + j]! : g * Tk + j;
    put(pV, spec.v, vRows, Dv, Hkv * TkP, DvP);
  }
  arena.i32(pQpos, Tq).set(qpos);
  arena.i32(pKpos, TkP).set(kposP);
  if (slopes) arena.f32(pSlopes, slopes.length).set(Array.from(slopes, (m) => Number(m) * LOG2E));
  const clamp = (n: number) => Math.max(-POS_INF, Math.min(POS_INF, n));
  arena.i32(pBand, Math.max(1, bands.length) * 4).set(bands.flatMap((b) => [b.gcol, b.grow, b.lo, b.hi].map(clamp)));
  arena.i32(pIv, Math.max(1, intervals.length) * 4).set(ivArrays.flat());
  arena.i32(pR1, Math.max(1, rank1.length) * 2).set(r1Arrays.flat());
  arena.i32(pCfg, CONFIG_INTS).set([D, DvP, Bk, nT, pQ, pKt, pV, pO, pML, Tq, pQpos, pKpos, pSlopes, bands.length, pBand, intervals.length, pIv, rank1.length, pR1, H / Hkv, spec.score === 'relu' ? 1 : 0, spec.rowSlopes ? 1 : 0]);
  const jobsI = new Int32Array(jobList.length * JOB_INTS);
  const tilesI = new Int32Array(Math.max(1, nTiles));
  let tile0 = 0;
  jobList.forEach((j, x) => {
    jobsI.set([j.h, j.r0, j.rows, tile0, j.codes.length, j.out0], x * JOB_INTS);
    tilesI.set(j.codes, tile0);
    tile0 += j.codes.length;
  });
  arena.i32(pJobs, jobsI.length).set(jobsI);
  arena.i32(pTiles, tilesI.length).set(tilesI);
  if (merge) arena.i32(pIndex, merge.index.length).set(merge.index);
  arena.i32(pSync, 2).set([0, 0]);

  // Run: this thread takes jobs from the shared counter like the pool's workers (threads − 1 of
  // them, each with run_queue and its own scratch), and ticks between its jobs.
  const t1 = performance.now();
  const n = jobList.length;
  await runOnPool(
    k,
    {
      what: 'fused wasm attention',
      n,
      counter: pSync,
      cancel: pSync + 4,
      threads,
      local: (j) => x.run_range(pCfg, pJobs, pTiles, j, j + 1, pScratch),
      worker: (t) => ({ fn: 'run_queue', args: [pCfg, pJobs, pTiles, n, pSync, pSync + 4, pScratch + t * scratchFloats * 4], queue: true }),
    },
    opts,
  );

  // Split-K parts or spec.merge: merged by log-sum-exp in the kernel.
  if (merge) x.merge_rows(pIndex, merge.rows, merge.parts, pO, pML, DvP, pMerged, pMergedML);
  const kernelMs = performance.now() - t1;
  // Read back with whole-buffer sets (see above).
  const ML = new Float32Array(R * 2);
  ML.set(arena.f32(pMergedML, R * 2));
  const out = new Float32Array(R * Dv);
  if (DvP === Dv) out.set(arena.f32(pMerged, R * Dv));
  else {
    const O = new Float32Array(R * DvP);
    O.set(arena.f32(pMerged, R * DvP));
    for (let row = 0; row < R; row++) out.set(O.subarray(row * DvP, row * DvP + Dv), row * Dv);
  }
  const lse = new Float32Array(R);
  for (let row = 0; row < R; row++) lse[row] = ML[row * 2 + 1]! > 0 ? (ML[row * 2]! + Math.log2(ML[row * 2 + 1]!)) / LOG2E : -Infinity;
  kernelStats.calls++;
  kernelStats.tilesComputed += computed;
  kernelStats.tilesTotal += plan.tilesTotal;
  kernelStats.prepMs += t1 - t0;
  kernelStats.kernelMs += kernelMs;
  return { out, lse, tilesComputed: computed, tilesTotal: plan.tilesTotal, bytes: arena.used, prepMs: t1 - t0, kernelMs };
}

/** 2^x through the kernel's vectorised exp2 (for its accuracy test). */
export function kernelExp2(xs: Float32Array): Float32Array {
  const k = loadKernel();
  const arena = new Arena(k);
  const n = Math.ceil(xs.length / 4) * 4;
  const at = arena.alloc(n * 4);
  arena.f32(at, n).set(xs);
  k.exports.exp2_array(at, n);
  return arena.f32(at, xs.length).slice();
}

/** Measures the wasm-SIMD f32 multiply-add peak of one thread, in GFLOP/s (best of a few runs). */
export function measureWasmPeak(ms = 200): number {
  const x = loadKernel().exports;
  let iters = 1 << 16;
  let best = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    x.peak(iters);
    const dt = performance.now() - t0;
    if (dt < 5) iters *= 2;
    else best = Math.max(best, (iters * x.peak_flops_per_iter()) / dt / 1e6);
  }
  return best;
}
