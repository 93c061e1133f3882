// Host side of the fused wasm-SIMD attention kernel (attention.c): lays the inputs out in one
// shared WebAssembly.Memory, builds the job list (a block of query rows × the key tiles it visits,
// each tile classified skip / full / partial from the mask rules), runs the jobs on this thread or
// on a pool of worker_threads that instantiate the same module over the same memory, and reads back
// O and the per-row log-sum-exp. Knows nothing of nodes: src/nodes/attention/fused.ts compiles a
// variant into a FusedAttentionSpec.
import { attentionWasmBase64 } from './attention.wasm.js';
import { decodeBase64 } from './module.js';

import { forEachRun, gatherRows, planJobs, POS_INF, type FusedAttentionResult, type FusedAttentionSpec } from '../attention-spec.js';

export { POS_INF };
export type { BandRule, FusedAttentionResult, FusedAttentionSpec, IntervalRule, Rank1Rule } from '../attention-spec.js';

export interface RunOptions {
  /** Threads; default: the configured count (setWasmKernelThreads), else the cores available. */
  threads?: number;
  /** Called at least every ~50 ms with the fraction done; may throw (cancel) to stop the kernel. */
  tick?(fraction: number): void;
  /** Milliseconds between ticks (default 50; 0: after every job). */
  tickMs?: number;
  /** Told why the kernel runs on fewer threads than asked (no SharedArrayBuffer, workers that failed to start). */
  fallback?(reason: string): void;
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
    merge_splits(groups: number, nGroups: number, O: number, ML: number, Dv: number, out: number, mlOut: number): void;
    peak(iters: number): number;
    peak_flops_per_iter(): number;
    __heap_base: WebAssembly.Global;
  };
  heapBase: number;
  /** Whether the memory is shared (else this thread alone runs the kernel). */
  shared: boolean;
  pool?: Pool;
  /** Why the pool could not start (the kernel then runs on this thread). */
  poolError?: string;
}

let kernel: Kernel | undefined;
/** One call at a time owns the memory layout. */
let queue: Promise<unknown> = Promise.resolve();

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
  const bytes = decodeBase64(attentionWasmBase64);
  // Without SharedArrayBuffer (a page that is not cross-origin isolated) a shared memory cannot be
  // made: the same code then runs over an unshared memory, on this thread only.
  const shared = typeof SharedArrayBuffer !== 'undefined';
  const module = new WebAssembly.Module(shared ? bytes : unsharedMemoryImport(bytes));
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared });
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  const exports = inst.exports as unknown as Kernel['exports'];
  // Allocations start past the module's static data, 64-byte aligned.
  const heapBase = (Number(exports.__heap_base.value) + 63) & ~63;
  kernel = { module, memory, exports, heapBase, shared };
  return kernel;
}

/**
 * The module with its memory import unshared (limits flag 0x03 → 0x01): the kernel's atomics are
 * valid on an unshared memory (the threads proposal allows them; only wait/notify would trap).
 */
export function unsharedMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const b = bytes.slice();
  let p = 8; // magic and version
  const leb = () => {
    let r = 0;
    for (let s = 0; ; s += 7) {
      const x = b[p++]!;
      r |= (x & 127) << s;
      if (!(x & 128)) return r;
    }
  };
  while (p < b.length) {
    const id = b[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 2) {
      // The import section: the build allows env.memory only (scripts/build-wasm.sh checks).
      for (let i = leb(); i > 0; i--) {
        for (let name = 0; name < 2; name++) {
          const len = leb(); // module name, then field name
          p += len;
        }
        if (b[p++] !== 2) break; // not a memory
        if (b[p] === 3) b[p] = 1;
        return b;
      }
    }
    p = end;
  }
  throw new Error('the kernel module has no memory import to unshare');
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

// ---- worker pool: Node worker_threads, or Web Workers in a browser (a blob: module) ----

/** The name of the kernel's Web Workers (self.name there; devtools show it). */
export const KERNEL_WORKER_NAME = 'fused-attention-kernel';

/** What a worker runs: the same module over the same memory, one run_queue per message. */
const WORKER_BODY = `
let ex;
on((m) => {
  if (m.type === 'init') {
    ex = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
    post({ type: 'ready' });
  } else if (m.type === 'run') {
    let done = 0, error;
    try { done = ex.run_queue(m.cfg, m.jobs, m.tiles, m.n, m.counter, m.cancel, m.scratch); } catch (e) { error = String(e && e.message || e); }
    post({ type: 'done', done, error });
  }
});
`;
const NODE_WORKER = `const { parentPort } = require('node:worker_threads');
const on = (f) => parentPort.on('message', f), post = (m) => parentPort.postMessage(m);${WORKER_BODY}`;
const WEB_WORKER = `const on = (f) => { self.onmessage = (e) => f(e.data); }, post = (m) => self.postMessage(m);${WORKER_BODY}`;

interface RunMessage {
  cfg: number;
  jobs: number;
  tiles: number;
  n: number;
  counter: number;
  cancel: number;
  scratch: number;
}

interface PoolWorker {
  run(m: RunMessage): Promise<void>;
  /** Node: whether the worker keeps the process alive (only while it works). */
  hold(on: boolean): void;
  terminate(): void;
}

interface Pool {
  workers: PoolWorker[];
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * A pool worker over a raw worker: each message it is sent gets exactly one answer (ready, done),
 * so one pending reply at a time; an error event rejects it.
 */
function poolWorker(post: (m: unknown) => void, listen: (onMessage: (m: any) => void, onError: (e: Error) => void) => void, rest: Pick<PoolWorker, 'hold' | 'terminate'>) {
  let pending: { ok(m: any): void; fail(e: Error): void } | undefined;
  const take = () => {
    const p = pending;
    pending = undefined;
    return p;
  };
  listen(
    (m) => take()?.ok(m),
    (e) => take()?.fail(e),
  );
  const ask = (m: unknown) =>
    new Promise<any>((ok, fail) => {
      pending = { ok, fail };
      post(m);
    });
  const w: PoolWorker & { init(k: Kernel): Promise<void> } = {
    ...rest,
    init: async (k) => void (await ask({ type: 'init', module: k.module, memory: k.memory })),
    async run(m) {
      const r = await ask({ type: 'run', ...m });
      if (r.error) throw new Error(`fused attention worker: ${r.error}`);
    },
  };
  return w;
}

async function startWorker(k: Kernel): Promise<PoolWorker> {
  if (isNode) {
    const spec = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
    const w = new Worker(NODE_WORKER, { eval: true });
    const pw = poolWorker(
      (m) => w.postMessage(m),
      (onMessage, onError) => w.on('message', onMessage).on('error', onError),
      { hold: (on) => void (on ? w.ref() : w.unref()), terminate: () => void w.terminate() },
    );
    await pw.init(k);
    w.unref(); // an idle pool never keeps the process alive (held while it works)
    return pw;
  }
  const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
  const w = new Worker(url, { name: KERNEL_WORKER_NAME });
  URL.revokeObjectURL(url);
  const pw = poolWorker(
    (m) => w.postMessage(m),
    (onMessage, onError) => {
      w.onmessage = (e) => onMessage(e.data);
      w.onerror = (e) => onError(new Error(`a kernel Web Worker failed: ${e.message || 'blocked (see the worker-src policy of the page)'}`));
    },
    { hold: () => {}, terminate: () => w.terminate() },
  );
  await pw.init(k);
  return pw;
}

async function hostCores(): Promise<number> {
  if (!isNode) return Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
  const spec = 'node:os';
  const os = (await import(/* @vite-ignore */ spec)) as typeof import('node:os');
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** Why the kernel runs on one thread here whatever the count asked (undefined: it can use many). */
export function singleThreadReason(): string | undefined {
  const k = loadKernel();
  if (!k.shared) return 'SharedArrayBuffer is unavailable (the page is not cross-origin isolated), so its threads cannot share memory';
  return k.poolError;
}

/**
 * The thread count a run uses: the option, the configured count (setWasmKernelThreads), in Node
 * CTXLAB_WASM_THREADS, else the cores available (navigator.hardwareConcurrency in a browser); 1 when
 * the kernel cannot share its memory (singleThreadReason).
 */
export async function kernelThreads(requested?: number): Promise<number> {
  return singleThreadReason() ? 1 : askedThreads(requested);
}

async function askedThreads(requested?: number): Promise<number> {
  const env = isNode ? Number(process.env.CTXLAB_WASM_THREADS) || undefined : undefined;
  return Math.max(1, Math.floor(requested ?? configuredThreads ?? env ?? (await hostCores())));
}

async function ensurePool(k: Kernel, n: number): Promise<Pool> {
  if (k.pool && k.pool.workers.length >= n) return k.pool;
  const workers = k.pool?.workers ?? [];
  while (workers.length < n) workers.push(await startWorker(k));
  k.pool = { workers };
  return k.pool;
}

/** Stops the pool's workers (tests, benchmarks that change thread counts). */
export async function closeKernelPool(): Promise<void> {
  const pool = kernel?.pool;
  if (!pool) return;
  kernel!.pool = undefined;
  for (const w of pool.workers) w.terminate();
}

// ---- the call ----

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
  // Split-K: the merged rows ([H·Tq][DvP] and their (m, ℓ)) and the groups of parts to merge.
  const pMerged = direct ? pO : arena.alloc(H * Tq * DvP * 4);
  const pMergedML = direct ? pML : arena.alloc(H * Tq * 2 * 4);
  const pGroups = direct ? 0 : arena.alloc(Math.max(1, plan.splitRows.length) * 16);

  // Q pre-scaled into the log2 domain; K transposed into [D][Bk] tiles; V padded to DvP columns
  // and TkP rows (zeros: padded keys get P = 0, and 0·0 stays 0). Whole-array sets: element-wise
  // reads and writes of a SharedArrayBuffer's typed array are ~10× slower than a set in V8.
  const x = k.exports;
  // Gathered rows (spec.qRows/kRows): one set per run of consecutive source rows, zero rows for −1.
  const put = (dst: Float32Array, src: Float32Array, rows: Int32Array | undefined, n: number, count: number) => {
    if (!rows) return dst.set(src.subarray(0, count * n));
    const zero = new Float32Array(n);
    rows.forEach((r, a) => r < 0 && dst.set(zero, a * n));
    forEachRun(rows, (a, b) => dst.set(src.subarray(rows[a]! * n, (rows[b - 1]! + 1) * n), a * n));
  };
  put(arena.f32(pQ, H * Tq * D), spec.q, spec.qRows, D, H * Tq);
  x.scale(pQ, H * Tq * D, LOG2E * spec.scale);
  put(arena.f32(pK, Hkv * Tk * D), spec.k, spec.kRows, D, Hkv * Tk);
  x.pack_kt(pK, pKt, Hkv, Tk, D, Bk, nT);
  const V = arena.f32(pV, Hkv * TkP * DvP);
  if (DvP === Dv && TkP === Tk) put(V, spec.v, spec.kRows, Dv, Hkv * Tk);
  else {
    const v = spec.kRows ? gatherRows(spec.v, spec.kRows, Dv) : spec.v;
    // Padded rows or columns: build the padded V on the JS heap, then one set.
    const Vp = new Float32Array(Hkv * TkP * DvP);
    for (let g = 0; g < Hkv; g++)
      if (DvP === Dv) Vp.set(v.subarray(g * Tk * Dv, (g + 1) * Tk * Dv), g * TkP * Dv);
      else for (let j = 0; j < Tk; j++) Vp.set(v.subarray((g * Tk + j) * Dv, (g * Tk + j + 1) * Dv), (g * TkP + j) * DvP);
    V.set(Vp);
  }
  arena.i32(pQpos, Tq).set(qpos);
  arena.i32(pKpos, TkP).set(kposP);
  if (spec.slopes) arena.f32(pSlopes, H).set(Array.from({ length: H }, (_, h) => Number(spec.slopes![h]) * LOG2E));
  const clamp = (n: number) => Math.max(-POS_INF, Math.min(POS_INF, n));
  arena.i32(pBand, Math.max(1, bands.length) * 4).set(bands.flatMap((b) => [b.gcol, b.grow, b.lo, b.hi].map(clamp)));
  arena.i32(pIv, Math.max(1, intervals.length) * 4).set(ivArrays.flat());
  arena.i32(pR1, Math.max(1, rank1.length) * 2).set(r1Arrays.flat());
  arena.i32(pCfg, CONFIG_INTS).set([D, DvP, Bk, nT, pQ, pKt, pV, pO, pML, Tq, pQpos, pKpos, pSlopes, bands.length, pBand, intervals.length, pIv, rank1.length, pR1, H / Hkv]);
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
  if (!direct) arena.i32(pGroups, plan.splitRows.length * 4).set(plan.splitRows.flatMap((g) => [g.h * Tq + g.r0, g.rows, g.parts[0]!, g.parts.length]));
  arena.i32(pSync, 2).set([0, 0]);

  // Run: this thread takes jobs from the shared counter like the pool's workers (threads − 1 of
  // them), so a small call finishes here before a worker has woken, and ticks between its jobs.
  const t1 = performance.now();
  const n = jobList.length;
  const sync = arena.i32(pSync, 2); // [next job, cancel]
  const helpers = Math.min(threads, n) - 1;
  let used: PoolWorker[] = [];
  if (helpers > 0)
    try {
      used = (await ensurePool(k, helpers)).workers.slice(0, helpers);
    } catch (err) {
      k.poolError = `its worker threads could not start (${(err as Error).message})`;
      await closeKernelPool();
    }
  const asked = await askedThreads(opts.threads);
  if (asked > 1 && used.length + 1 < Math.min(asked, n)) opts.fallback?.(`fused wasm attention on ${used.length + 1} thread(s) instead of ${asked}: ${singleThreadReason()}`);
  const all = Promise.all(
    used.map((w, i) => {
      w.hold(true);
      return w.run({ cfg: pCfg, jobs: pJobs, tiles: pTiles, n, counter: pSync, cancel: pSync + 4, scratch: pScratch + (i + 1) * scratchFloats * 4 });
    }),
  );
  let finished = false;
  void all.then(
    () => (finished = true),
    () => (finished = true),
  );
  try {
    let last = performance.now();
    for (let j = Atomics.add(sync, 0, 1); j < n; j = Atomics.add(sync, 0, 1)) {
      x.run_range(pCfg, pJobs, pTiles, j, j + 1, pScratch);
      const now = performance.now();
      if (opts.tick && now - last >= tickMs) {
        last = now;
        opts.tick(Math.min(1, (j + 1) / n));
      }
    }
    // The workers' last jobs: tick (a cancel lands) every tickMs until they are done.
    while (!finished) {
      opts.tick?.(1);
      await Promise.race([all, new Promise((r) => setTimeout(r, tickMs))]);
    }
    await all;
  } catch (err) {
    Atomics.store(sync, 1, 1); // workers stop after their current job
    await all.catch(() => undefined);
    throw err;
  } finally {
    for (const w of used) w.hold(false);
  }

  // Split-K: merge the parts by log-sum-exp in the kernel (their rows are consecutive per group).
  if (!direct) x.merge_splits(pGroups, plan.splitRows.length, pO, pML, DvP, pMerged, pMergedML);
  const kernelMs = performance.now() - t1;
  // Read back with whole-buffer sets (see above).
  const ML = new Float32Array(H * Tq * 2);
  ML.set(arena.f32(pMergedML, H * Tq * 2));
  const out = new Float32Array(H * Tq * Dv);
  if (DvP === Dv) out.set(arena.f32(pMerged, H * Tq * Dv));
  else {
    const O = new Float32Array(H * Tq * DvP);
    O.set(arena.f32(pMerged, H * Tq * DvP));
    for (let row = 0; row < H * Tq; row++) out.set(O.subarray(row * DvP, row * DvP + Dv), row * Dv);
  }
  const lse = new Float32Array(H * Tq);
  for (let row = 0; row < H * Tq; row++) lse[row] = ML[row * 2 + 1]! > 0 ? (ML[row * 2]! + Math.log2(ML[row * 2 + 1]!)) / LOG2E : -Infinity;
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
