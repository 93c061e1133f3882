// Host side of the wasm-SIMD selective scan (scan.c): one instance over its own memory (grown as
// needed), single-threaded. Takes the same arrays as the plain-TS reference (selectiveScanSequential
// in src/nodes/ssm/scan.ts) for one batch element, copies them in (O(size), against O(Dm·L·N) work),
// packs B and C position-major, and runs the channels in runs sized to ~TICK_MS each, calling the
// caller's tick between runs (cancel, progress).
import { singleThreadKernel } from './module.js';
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

export interface ScanKernelOptions {
  /** Called before the first run of channels and then at least every ~TICK_MS with the fraction done; may throw (cancel). */
  tick?(fraction: number): void;
}

const TICK_MS = 50;
/** The Cfg struct of scan.c, in order. */
const CFG = ['Dm', 'L', 'N', 'N4', 'G', 'softplus', 'u', 'delta', 'z', 'A', 'B', 'C', 'D', 'bias', 'y', 'state', 'dt', 'x'] as const;

const { load, unavailable } = singleThreadKernel<ScanExports>(scanWasmBase64, 'wasm selective-scan kernel');

/** Why the scan kernel cannot run here (no WebAssembly SIMD), or undefined when it can. */
export function wasmScanUnavailable(): string | undefined {
  return unavailable();
}

/** Bytes of wasm memory one call lays out (inputs, packed B/C, outputs, scratch): for ctx.track. */
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
): void {
  const k = load();
  const { Dm, L, N, G } = dims;
  if (Dm % G !== 0) throw new Error(`selective scan: ${G} groups do not divide ${Dm} channels`);
  const N4 = Math.ceil(N / 4) * 4;
  const L4 = Math.ceil(L / 4) * 4;
  let top = k.heapBase + CFG.length * 4;
  const at: Record<string, number> = {};
  const place = (name: string, floats: number) => {
    top = (top + 63) & ~63;
    at[name] = top;
    top += floats * 4;
  };
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
  place('dt', L4);
  place('x', N4);
  if (top > k.memory.buffer.byteLength) {
    try {
      k.memory.grow(Math.ceil((top - k.memory.buffer.byteLength) / 65536));
    } catch {
      throw new Error(`the selective scan needs ${(top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB)`);
    }
  }
  const buf = k.memory.buffer;
  const put = (name: string, src: Float32Array, n: number) => {
    if (src.length < n) throw new Error(`selective scan: "${name}" holds ${src.length} values, expected ${n}`);
    new Float32Array(buf, at[name], n).set(src.length === n ? src : src.subarray(0, n));
  };
  put('u', a.u, Dm * L);
  put('delta', a.delta, Dm * L);
  if (a.z) put('z', a.z, Dm * L);
  const A4 = new Float32Array(buf, at.A, Dm * N4);
  A4.fill(0);
  for (let d = 0; d < Dm; d++) for (let n = 0; n < N; n++) A4[d * N4 + n] = a.A[d * N + n]! * Math.LOG2E;
  put('Braw', a.B, G * N * L);
  put('Craw', a.C, G * N * L);
  if (a.D) put('D', a.D, Dm);
  if (a.deltaBias) put('bias', a.deltaBias, Dm);
  k.exports.pack_bc(at.Braw!, at.B!, G, N, L, N4);
  k.exports.pack_bc(at.Craw!, at.C!, G, N, L, N4);
  const cfg = new Int32Array(buf, k.heapBase, CFG.length);
  const vals: Record<(typeof CFG)[number], number> = {
    Dm, L, N, N4, G, softplus: deltaSoftplus ? 1 : 0,
    u: at.u!, delta: at.delta!, z: at.z ?? 0, A: at.A!, B: at.B!, C: at.C!, D: at.D ?? 0, bias: at.bias ?? 0,
    y: at.y!, state: at.state!, dt: at.dt!, x: at.x!,
  };
  CFG.forEach((f, i) => (cfg[i] = vals[f]));
  // Runs of channels sized to ~TICK_MS (doubling from one channel while runs are short).
  opts.tick?.(0);
  let run = 1;
  for (let d0 = 0; d0 < Dm; ) {
    const d1 = Math.min(Dm, d0 + run);
    const t0 = performance.now();
    k.exports.scan_channels(k.heapBase, d0, d1);
    const ms = performance.now() - t0;
    d0 = d1;
    if (ms < TICK_MS / 2) run *= 2;
    else if (ms > TICK_MS) run = Math.max(1, Math.floor(run / 2));
    opts.tick?.(d0 / Dm);
  }
  y.set(new Float32Array(k.memory.buffer, at.y, Dm * L));
  state.set(new Float32Array(k.memory.buffer, at.state, Dm * N));
}
