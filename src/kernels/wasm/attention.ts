// Host side of the fused wasm-SIMD attention kernel (attention.c): lays the inputs out in one
// shared WebAssembly.Memory, builds the job list (a block of query rows × the key tiles it visits,
// each tile classified skip / full / partial from the mask rules), runs the jobs on this thread or
// on a pool of worker_threads that instantiate the same module over the same memory, and reads back
// O and the per-row log-sum-exp. Knows nothing of nodes: src/nodes/attention/fused.ts compiles a
// variant into a FusedAttentionSpec.
import { attentionWasmBase64 } from './attention.wasm.js';

import { mergeSplits, planJobs, POS_INF, type FusedAttentionResult, type FusedAttentionSpec } from '../attention-spec.js';

export { POS_INF };
export type { BandRule, FusedAttentionResult, FusedAttentionSpec, IntervalRule, Rank1Rule } from '../attention-spec.js';

export interface RunOptions {
  /** Threads; default: the configured count (setWasmKernelThreads), else the cores available. */
  threads?: number;
  /** Called at least every ~50 ms with the fraction done; may throw (cancel) to stop the kernel. */
  tick?(fraction: number): void;
  /** Milliseconds between ticks (default 50; 0: after every job). */
  tickMs?: number;
}

const LOG2E = Math.LOG2E;
const CONFIG_INTS = 20;
const JOB_INTS = 8;
const TICK_MS = 50;

/** Totals over every call since the last reset (benchmarks read them; the kernel does not). */
export const kernelStats = { calls: 0, tilesComputed: 0, tilesTotal: 0, prepMs: 0, kernelMs: 0 };
export function resetKernelStats(): void {
  Object.assign(kernelStats, { calls: 0, tilesComputed: 0, tilesTotal: 0, prepMs: 0, kernelMs: 0 });
}

let configuredThreads: number | undefined;
/** The wasm backend's thread count (undefined: CTXLAB_WASM_THREADS in Node, else the cores available). */
export function setWasmKernelThreads(n: number | undefined): void {
  configuredThreads = n;
}

/** The kernel's module, its shared memory, this thread's instance, and the worker pool. */
interface Kernel {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: {
    run_range(cfg: number, jobs: number, tiles: number, j0: number, j1: number, scratch: number): void;
    run_queue(cfg: number, jobs: number, tiles: number, n: number, counter: number, cancel: number, scratch: number): number;
    exp2_array(ptr: number, n: number): void;
    scale(ptr: number, n: number, c: number): void;
    pack_kt(k: number, kt: number, Hkv: number, Tk: number, D: number, Bk: number, nT: number): void;
    peak(iters: number): number;
    peak_flops_per_iter(): number;
    __heap_base: WebAssembly.Global;
  };
  heapBase: number;
  pool?: Pool;
}

let kernel: Kernel | undefined;
/** One call at a time owns the memory layout. */
let queue: Promise<unknown> = Promise.resolve();

function decode(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return Uint8Array.from(Buffer.from(b64, 'base64'));
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

let unavailable: string | undefined;

/** Why the kernel cannot run here, or undefined when it can (it needs shared wasm memory). */
export function wasmKernelUnavailable(): string | undefined {
  if (kernel || unavailable) return unavailable;
  try {
    loadKernel();
  } catch (err) {
    unavailable = `the fused wasm attention kernel cannot start: ${(err as Error).message}`;
  }
  return unavailable;
}

export function loadKernel(): Kernel {
  if (kernel) return kernel;
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('it needs SharedArrayBuffer (a cross-origin isolated page)');
  const module = new WebAssembly.Module(decode(attentionWasmBase64));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const exports = inst.exports as unknown as Kernel['exports'];
  // Allocations start past the module's static data, 64-byte aligned.
  const heapBase = (Number(exports.__heap_base.value) + 63) & ~63;
  kernel = { module, memory, exports, heapBase };
  return kernel;
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

// ---- worker pool (Node worker_threads; the browser runs single-threaded for now) ----

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let ex;
parentPort.on('message', (m) => {
  if (m.type === 'init') {
    ex = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
    parentPort.postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    let done = 0, error;
    try { done = ex.run_queue(m.cfg, m.jobs, m.tiles, m.n, m.counter, m.cancel, m.scratch); } catch (e) { error = String(e && e.message || e); }
    parentPort.postMessage({ type: 'done', done, error });
  }
});
`;

interface PoolWorker {
  postMessage(m: unknown): void;
  once(ev: 'message', f: (m: any) => void): void;
  once(ev: 'error', f: (e: Error) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface Pool {
  workers: PoolWorker[];
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function nodeCores(): Promise<number> {
  if (!isNode) return 1;
  const spec = 'node:os';
  const os = (await import(/* @vite-ignore */ spec)) as typeof import('node:os');
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** The thread count a run uses: the option, the configured count, else the cores (1 in a browser). */
export async function kernelThreads(requested?: number): Promise<number> {
  const env = isNode ? Number(process.env.CTXLAB_WASM_THREADS) || undefined : undefined;
  const n = requested ?? configuredThreads ?? env ?? (await nodeCores());
  return isNode ? Math.max(1, Math.floor(n)) : 1;
}

async function ensurePool(k: Kernel, n: number): Promise<Pool> {
  if (k.pool && k.pool.workers.length >= n) return k.pool;
  const spec = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
  const workers = k.pool?.workers ?? [];
  while (workers.length < n) {
    const w = new Worker(WORKER_SOURCE, { eval: true }) as unknown as PoolWorker;
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.postMessage({ type: 'init', module: k.module, memory: k.memory });
    });
    w.unref(); // an idle pool never keeps the process alive (ref'd again while it works)
    workers.push(w);
  }
  k.pool = { workers };
  return k.pool;
}

/** Stops the pool's workers (tests, benchmarks that change thread counts). */
export async function closeKernelPool(): Promise<void> {
  const pool = kernel?.pool;
  if (!pool) return;
  kernel!.pool = undefined;
  await Promise.all(pool.workers.map((w) => w.terminate()));
}

// ---- the call ----

/**
 * dst[dstAt..] = src[srcAt..srcAt+n) with a plain loop: TypedArray set/slice/fill on a
 * SharedArrayBuffer take V8's per-element atomic path, ~30× slower than a JIT-compiled loop. One
 * function per element type keeps each loop monomorphic.
 */
function copy(dst: Float32Array, dstAt: number, src: Float32Array, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]!;
}

function copyInts(dst: Int32Array, dstAt: number, src: ArrayLike<number>, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]!;
}

function zero(dst: Float32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) dst[i] = 0;
}

/** Runs attention as specified; resolves when every job is done. */
export function fusedAttention(spec: FusedAttentionSpec, opts: RunOptions = {}): Promise<FusedAttentionResult> {
  const run = queue.then(() => runLocked(spec, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runLocked(spec: FusedAttentionSpec, opts: RunOptions): Promise<FusedAttentionResult> {
  const k = loadKernel();
  const t0 = performance.now();
  const { H, Hkv, Tq, Tk, D, Dv } = spec;
  const plan = planJobs(spec);
  const { Bk, nT, TkP, qpos, kposP, blocks, outRows, direct, nTiles, tilesComputed: computed } = plan;
  const jobList = plan.jobs;
  const DvP = Math.ceil(Dv / 8) * 8;
  const bands = spec.bands ?? [];
  const intervals = spec.intervals ?? [];
  const rank1 = spec.rank1 ?? [];
  const threads = await kernelThreads(opts.threads);
  const tickMs = opts.tickMs ?? TICK_MS;

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
  const pSlopes = spec.slopes ? arena.alloc(H * 4) : 0;
  const pBand = arena.alloc(Math.max(1, bands.length) * 16);
  const pIv = arena.alloc(Math.max(1, intervals.length) * 16);
  const ivArrays = intervals.map((iv) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(Tq * 4), arena.alloc(TkP * 4), arena.alloc(TkP * 4)];
    copyInts(arena.i32(at[0]!, Tq), 0, iv.qa, 0, Tq);
    copyInts(arena.i32(at[1]!, Tq), 0, iv.qb, 0, Tq);
    copyInts(arena.i32(at[2]!, TkP), 0, iv.ka, 0, Tk);
    copyInts(arena.i32(at[3]!, TkP), 0, iv.kb, 0, Tk);
    return at;
  });
  const pR1 = arena.alloc(Math.max(1, rank1.length) * 8);
  const r1Arrays = rank1.map((r) => {
    const at = [arena.alloc(Tq * 4), arena.alloc(TkP * 4)];
    copy(arena.f32(at[0]!, Tq), 0, r.qw, 0, Tq);
    const kw = arena.f32(at[1]!, TkP);
    for (let j = 0; j < Tk; j++) kw[j] = r.kw[j]! * LOG2E;
    return at;
  });
  const pCfg = arena.alloc(CONFIG_INTS * 4);
  const pJobs = arena.alloc(jobList.length * JOB_INTS * 4);
  const pTiles = arena.alloc(Math.max(1, nTiles) * 4);
  const pSync = arena.alloc(8); // job counter, cancel flag
  const pScratch = arena.alloc(Math.max(1, threads) * scratchFloats * 4);

  // Q pre-scaled into the log2 domain; K transposed into [D][Bk] tiles; V padded to DvP columns
  // and TkP rows (zeros: padded keys get P = 0, and 0·0 stays 0).
  const x = k.exports;
  copy(arena.f32(pQ, H * Tq * D), 0, spec.q, 0, H * Tq * D);
  x.scale(pQ, H * Tq * D, LOG2E * spec.scale);
  copy(arena.f32(pK, Hkv * Tk * D), 0, spec.k, 0, Hkv * Tk * D);
  x.pack_kt(pK, pKt, Hkv, Tk, D, Bk, nT);
  const V = arena.f32(pV, Hkv * TkP * DvP);
  if (DvP !== Dv) zero(V, 0, V.length);
  for (let g = 0; g < Hkv; g++) {
    if (DvP === Dv) copy(V, g * TkP * Dv, spec.v, g * Tk * Dv, Tk * Dv);
    else for (let j = 0; j < Tk; j++) copy(V, (g * TkP + j) * DvP, spec.v, (g * Tk + j) * Dv, Dv);
    zero(V, (g * TkP + Tk) * DvP, (g + 1) * TkP * DvP);
  }
  copyInts(arena.i32(pQpos, Tq), 0, qpos, 0, Tq);
  copyInts(arena.i32(pKpos, TkP), 0, kposP, 0, TkP);
  if (spec.slopes) {
    const sl = arena.f32(pSlopes, H);
    for (let h = 0; h < H; h++) sl[h] = Number(spec.slopes[h]) * LOG2E;
  }
  const bandI = arena.i32(pBand, bands.length * 4);
  bands.forEach((b, x) => bandI.set([b.gcol, b.grow, Math.min(b.lo, POS_INF), Math.min(b.hi, POS_INF)].map((n) => Math.max(-POS_INF, Math.min(POS_INF, n))), x * 4));
  const ivI = arena.i32(pIv, intervals.length * 4);
  ivArrays.forEach((at, x) => ivI.set(at, x * 4));
  const r1I = arena.i32(pR1, rank1.length * 2);
  r1Arrays.forEach((at, x) => r1I.set(at, x * 2));
  arena.i32(pCfg, CONFIG_INTS).set([D, DvP, Bk, nT, pQ, pKt, pV, pO, pML, Tq, pQpos, pKpos, pSlopes, bands.length, pBand, intervals.length, pIv, rank1.length, pR1, H / Hkv]);
  const jobsI = arena.i32(pJobs, jobList.length * JOB_INTS);
  const tilesI = arena.i32(pTiles, Math.max(1, nTiles));
  let tile0 = 0;
  jobList.forEach((j, x) => {
    copyInts(jobsI, x * JOB_INTS, [j.h, j.r0, j.rows, tile0, j.codes.length, j.out0, 0, 0], 0, JOB_INTS);
    copyInts(tilesI, tile0, j.codes, 0, j.codes.length);
    tile0 += j.codes.length;
  });
  const sync = arena.i32(pSync, 2);
  sync.fill(0);

  // Run.
  const t1 = performance.now();
  const n = jobList.length;
  if (threads <= 1 || n <= 1) {
    let last = performance.now();
    for (let j = 0; j < n; j++) {
      x.run_range(pCfg, pJobs, pTiles, j, j + 1, pScratch);
      const now = performance.now();
      if (now - last >= tickMs && opts.tick) {
        last = now;
        opts.tick((j + 1) / n);
      }
    }
  } else {
    const pool = await ensurePool(k, threads);
    const used = pool.workers.slice(0, Math.min(threads, n));
    for (const w of used) w.ref();
    const done = used.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: { error?: string }) => (m.error ? reject(new Error(`fused attention worker: ${m.error}`)) : resolve()));
          w.postMessage({ type: 'run', cfg: pCfg, jobs: pJobs, tiles: pTiles, n, counter: pSync, cancel: pSync + 4, scratch: pScratch + i * scratchFloats * 4 });
        }),
    );
    const all = Promise.all(done);
    let finished = false;
    void all.then(() => (finished = true), () => (finished = true));
    try {
      // Ticks from the start (a cancel lands while the workers run), then every tickMs.
      while (!finished) {
        opts.tick?.(Math.min(1, Atomics.load(arena.i32(pSync, 1), 0) / n));
        await Promise.race([all, new Promise((r) => setTimeout(r, tickMs))]);
      }
      await all;
    } catch (err) {
      Atomics.store(arena.i32(pSync + 4, 1), 0, 1); // workers stop after their current job
      await all.catch(() => undefined);
      throw err;
    } finally {
      for (const w of used) w.unref();
    }
  }

  const kernelMs = performance.now() - t1;
  // Read back (and merge the splits by log-sum-exp). Whole-buffer copies out of the shared memory:
  // element-wise reads and small sets on a SharedArrayBuffer are many times slower in V8.
  const O = new Float32Array(outRows * DvP);
  copy(O, 0, arena.f32(pO, outRows * DvP), 0, O.length);
  const ML = new Float32Array(outRows * 2);
  copy(ML, 0, arena.f32(pML, outRows * 2), 0, ML.length);
  const out = new Float32Array(H * Tq * Dv);
  const lse = new Float32Array(H * Tq);
  const lse2 = (row: number) => (ML[row * 2 + 1]! > 0 ? ML[row * 2]! + Math.log2(ML[row * 2 + 1]!) : -Infinity);
  if (direct) {
    if (DvP === Dv) out.set(O.subarray(0, H * Tq * Dv));
    for (let row = 0; row < H * Tq; row++) {
      if (DvP !== Dv) out.set(O.subarray(row * DvP, row * DvP + Dv), row * Dv);
      lse[row] = lse2(row) / LOG2E;
    }
  } else {
    mergeSplits(plan, Tq, Dv, (row, e) => O[row * DvP + e]!, (row) => lse2(row) / LOG2E, out, lse);
  }
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
