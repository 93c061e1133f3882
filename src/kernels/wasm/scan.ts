// Host side of the wasm-SIMD selective scan (scan.c): one module over a shared memory (grown as
// needed), its channels run on the wasm kernel thread pool (pool.ts). Takes the same arrays as the
// plain-TS reference (selectiveScanSequential in src/nodes/ssm/scan.ts) for one batch element,
// copies them in (O(size), against O(Dm·L·N) work), packs B and C position-major, and hands out runs
// of channels of a few ms each; this thread ticks the caller (cancel, progress) at least every
// ~50 ms. Channels are independent and each thread has its own scratch, so the result is the same
// bits on any number of threads.
import { exclusive, kernelThreads, runOnPool, sharedKernel, type ThreadOptions } from './pool.js';
import { scanWasmBase64 } from './scan.wasm.js';

interface ScanExports {
  pack_bc(src: number, dst: number, G: number, N: number, L: number, N4: number): void;
  scan_channels(cfg: number, d0: number, d1: number): void;
  __heap_base: WebAssembly.Global;
}

/** One batch element's inputs: u, delta, z [Dm, L]; A [Dm, N]; B, C [G, N, L]; D, deltaBias [Dm]. */
export interface ScanKernelArrays {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D?: Float32Array;
  z?: Float32Array;
  deltaBias?: Float32Array;
}

/** tick: called with 0 first, then at least every ~50 ms, then with 1; may throw (cancel). threads, fallback: see pool.ts. */
export type ScanKernelOptions = ThreadOptions;

/** State updates (channel × position × state lane) per run of channels: ~1-3 ms of work. */
const RUN_WORK = 1 << 21;
/** The Cfg struct of scan.c, in order. */
const CFG = ['Dm', 'L', 'N', 'N4', 'G', 'softplus', 'u', 'delta', 'z', 'A', 'B', 'C', 'D', 'bias', 'y', 'state', 'dt', 'x'] as const;

const { load, unavailable } = sharedKernel<ScanExports>(scanWasmBase64, 'wasm selective-scan kernel');

/** Why the scan kernel cannot run here (no WebAssembly SIMD), or undefined when it can. */
export function wasmScanUnavailable(): string | undefined {
  return unavailable();
}

/** Bytes of wasm memory one call lays out (inputs, packed B/C, outputs, one thread's scratch): for ctx.track. */
export function scanKernelBytes(d: { Dm: number; L: number; N: number; G: number }, has: { z: boolean; D: boolean; bias: boolean }): number {
  const N4 = Math.ceil(d.N / 4) * 4;
  const L4 = Math.ceil(d.L / 4) * 4;
  return 4 * ((has.z ? 4 : 3) * d.Dm * d.L + 2 * d.G * d.N * d.L + 2 * d.G * L4 * N4 + d.Dm * N4 + d.Dm * d.N + (has.D ? d.Dm : 0) + (has.bias ? d.Dm : 0) + L4 + N4);
}

/**
 * The selective scan of one batch element on the wasm kernel: writes y [Dm, L] and the last state
 * [Dm, N]. Δ ← softplus(Δ + deltaBias) when deltaSoftplus; channel d reads group ⌊d / (Dm/G)⌋.
 */
export function selectiveScanWasm(
  a: ScanKernelArrays,
  dims: { Dm: number; L: number; N: number; G: number },
  deltaSoftplus: boolean,
  y: Float32Array,
  state: Float32Array,
  opts: ScanKernelOptions = {},
): Promise<{ kernelMs: number }> {
  return exclusive(() => scanLocked(a, dims, deltaSoftplus, y, state, opts));
}

async function scanLocked(
  a: ScanKernelArrays,
  dims: { Dm: number; L: number; N: number; G: number },
  deltaSoftplus: boolean,
  y: Float32Array,
  state: Float32Array,
  opts: ScanKernelOptions,
): Promise<{ kernelMs: number }> {
  const k = load();
  const { Dm, L, N, G } = dims;
  if (Dm % G !== 0) throw new Error(`selective scan: ${G} groups do not divide ${Dm} channels`);
  const N4 = Math.ceil(N / 4) * 4;
  const L4 = Math.ceil(L / 4) * 4;
  // Runs of channels: ~RUN_WORK each, and at least 4 per thread so the threads finish together.
  const threads = Math.max(1, Math.min(await kernelThreads(opts.threads), Dm));
  const chunk = Math.max(1, Math.min(Math.floor(RUN_WORK / (L * N4)), Math.ceil(Dm / (4 * threads))));
  const runs = Math.ceil(Dm / chunk);
  let top = k.heapBase;
  const at: Record<string, number> = {};
  const place = (name: string, floats: number) => {
    top = (top + 63) & ~63;
    at[name] = top;
    top += floats * 4;
  };
  place('sync', 2); // the next run, the cancel flag
  place('u', Dm * L);
  place('delta', Dm * L);
  if (a.z) place('z', Dm * L);
  place('A', Dm * N4);
  place('Braw', G * N * L);
  place('Craw', G * N * L);
  place('B', G * L * N4);
  place('C', G * L * N4);
  if (a.D) place('D', Dm);
  if (a.deltaBias) place('bias', Dm);
  place('y', Dm * L);
  place('state', Dm * N);
  // Each thread: its Cfg (pointing at its own Δ and state scratch), on cache lines of its own.
  for (let t = 0; t < threads; t++) {
    place(`cfg${t}`, CFG.length);
    place(`dt${t}`, L4);
    place(`x${t}`, N4);
  }
  top = (top + 63) & ~63;
  if (top > k.memory.buffer.byteLength) {
    try {
      k.memory.grow(Math.ceil((top - k.memory.buffer.byteLength) / 65536));
    } catch {
      throw new Error(`the selective scan needs ${(top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB)`);
    }
  }
  const buf = k.memory.buffer;
  // Whole-array sets: element-wise writes of a SharedArrayBuffer's typed array are slow in V8.
  const put = (name: string, src: Float32Array, n: number) => {
    if (src.length < n) throw new Error(`selective scan: "${name}" holds ${src.length} values, expected ${n}`);
    new Float32Array(buf, at[name], n).set(src.length === n ? src : src.subarray(0, n));
  };
  put('u', a.u, Dm * L);
  put('delta', a.delta, Dm * L);
  if (a.z) put('z', a.z, Dm * L);
  const A4 = new Float32Array(Dm * N4);
  for (let d = 0; d < Dm; d++) for (let n = 0; n < N; n++) A4[d * N4 + n] = a.A[d * N + n]! * Math.LOG2E;
  new Float32Array(buf, at.A, Dm * N4).set(A4);
  put('Braw', a.B, G * N * L);
  put('Craw', a.C, G * N * L);
  if (a.D) put('D', a.D, Dm);
  if (a.deltaBias) put('bias', a.deltaBias, Dm);
  k.exports.pack_bc(at.Braw!, at.B!, G, N, L, N4);
  k.exports.pack_bc(at.Craw!, at.C!, G, N, L, N4);
  const base = {
    Dm, L, N, N4, G, softplus: deltaSoftplus ? 1 : 0,
    u: at.u!, delta: at.delta!, z: at.z ?? 0, A: at.A!, B: at.B!, C: at.C!, D: at.D ?? 0, bias: at.bias ?? 0,
    y: at.y!, state: at.state!,
  };
  for (let t = 0; t < threads; t++) {
    const vals: Record<(typeof CFG)[number], number> = { ...base, dt: at[`dt${t}`]!, x: at[`x${t}`]! };
    new Int32Array(buf, at[`cfg${t}`], CFG.length).set(CFG.map((f) => vals[f]));
  }
  new Int32Array(buf, at.sync, 2).set([0, 0]);
  opts.tick?.(0);
  const t0 = performance.now();
  await runOnPool(
    k,
    {
      what: 'wasm selective scan',
      n: runs,
      counter: at.sync!,
      cancel: at.sync! + 4,
      threads,
      local: (i) => k.exports.scan_channels(at.cfg0!, i * chunk, Math.min(Dm, (i + 1) * chunk)),
      worker: (t) => ({ fn: 'scan_channels', args: [at[`cfg${t}`]!], chunk, total: Dm }),
    },
    opts,
  );
  const kernelMs = performance.now() - t0;
  opts.tick?.(1);
  y.set(new Float32Array(k.memory.buffer, at.y, Dm * L));
  state.set(new Float32Array(k.memory.buffer, at.state, Dm * N));
  return { kernelMs };
}
