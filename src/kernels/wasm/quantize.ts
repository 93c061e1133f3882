// Host side of the wasm group quantizer (quantize.c): one module over a shared memory (grown as
// needed), its groups run on the wasm kernel thread pool (pool.ts). Copies x in, hands out runs of
// groups of a few ms each (this thread ticks the caller at least every ~50 ms), and copies the
// dequantized values, packed codes and scales out. Groups write disjoint values and scales, and
// code words shared by neighbouring groups are OR-ed atomically, so the result is the same bits on
// any number of threads.
import type { GroupLayout } from '../quantize-layout.js';
import { exclusive, kernelThreads, runOnPool, sharedKernel, type ThreadOptions } from './pool.js';
import { quantizeWasmBase64 } from './quantize.wasm.js';

interface QuantizeExports {
  quantize_groups(cfg: number, g0: number, g1: number): void;
  __heap_base: WebAssembly.Global;
}

/** Elements per run of groups: ~1 ms of work. */
const RUN_WORK = 1 << 18;
const CFG = ['rows', 'len', 'G', 'nG', 'f1', 's1', 's2', 'js', 'c1', 'c2', 'c3', 'c4', 't1', 't2', 't3', 'bits', 'per', 'L', 'symmetric', 'halfUp', 'wide', 'x', 'out', 'codes', 'scales'] as const;

const { load, unavailable } = sharedKernel<QuantizeExports>(quantizeWasmBase64, 'wasm group-quantize kernel');

/** Why the wasm quantizer cannot run here, or undefined when it can. */
export function wasmQuantizeUnavailable(): string | undefined {
  return unavailable();
}

export interface GroupQuantizeOptions extends ThreadOptions {
  bits: number;
  symmetric: boolean;
  /** Round half up (Math.round); else half to even (torch.round). */
  roundHalfUp?: boolean;
  /** Min-max arithmetic in float64, rounded to f32 where stored: KIVI's reference (kivi.ts quantizeGroups). */
  float64?: boolean;
}

/**
 * Quantizes the groups of `layout` in x and dequantizes them: `out` is x with every grouped element
 * replaced (others copied), `codes` the packed words, `scales` the scales (symmetric) or (scale, min) pairs.
 * tick: called with 0 first, then at least every ~50 ms, then with 1; may throw (cancel).
 */
export function groupQuantizeWasm(
  x: Float32Array,
  layout: GroupLayout,
  opts: GroupQuantizeOptions,
): Promise<{ out: Float32Array; codes: Uint32Array; scales: Float32Array; bytes: number; kernelMs: number }> {
  return exclusive(() => quantizeLocked(x, layout, opts));
}

async function quantizeLocked(x: Float32Array, layout: GroupLayout, opts: GroupQuantizeOptions) {
  const k = load();
  const per = Math.floor(32 / opts.bits);
  const nG = Math.ceil(layout.len / layout.groupSize);
  const groups = layout.rows * nG;
  const words = Math.ceil(layout.codes / per);
  const nScales = groups * (opts.symmetric ? 1 : 2);
  // Runs of groups: ~RUN_WORK elements each, and at least 4 per thread so the threads finish together.
  const threads = Math.max(1, Math.min(await kernelThreads(opts.threads), groups));
  const chunk = Math.max(1, Math.min(Math.floor(RUN_WORK / layout.groupSize), Math.ceil(groups / (4 * threads))));
  const align = (n: number) => (n + 63) & ~63;
  const syncAt = align(k.heapBase + CFG.length * 4);
  const xAt = syncAt + 64;
  const outAt = xAt + align(x.byteLength);
  const codesAt = outAt + align(x.byteLength);
  const scalesAt = codesAt + align(words * 4);
  const top = scalesAt + nScales * 4;
  if (top > k.memory.buffer.byteLength) {
    try {
      k.memory.grow(Math.ceil((top - k.memory.buffer.byteLength) / 65536));
    } catch {
      throw new Error(`group quantize needs ${(top / 2 ** 20).toFixed(0)} MiB of wasm memory, more than it can hold (4 GiB)`);
    }
  }
  const buf = k.memory.buffer;
  new Float32Array(buf, xAt, x.length).set(x);
  // Elements outside every group (KIVI's residual) pass through; when the groups cover x, the kernel writes all of out.
  if (layout.rows * layout.len < x.length) new Float32Array(buf, outAt, x.length).set(x);
  new Uint32Array(buf, codesAt, words).fill(0);
  new Int32Array(buf, syncAt, 2).set([0, 0]);
  const l = layout;
  const vals: Record<(typeof CFG)[number], number> = {
    rows: l.rows, len: l.len, G: l.groupSize, nG, f1: l.f1, s1: l.s1, s2: l.s2, js: l.js, c1: l.c1, c2: l.c2, c3: l.c3, c4: l.c4,
    t1: l.t1, t2: l.t2, t3: l.t3, bits: opts.bits, per, L: opts.symmetric ? 2 ** (opts.bits - 1) - 1 : 2 ** opts.bits - 1,
    symmetric: opts.symmetric ? 1 : 0, halfUp: opts.roundHalfUp ? 1 : 0, wide: opts.float64 ? 1 : 0, x: xAt, out: outAt, codes: codesAt, scales: scalesAt,
  };
  new Uint32Array(buf, k.heapBase, CFG.length).set(CFG.map((f) => vals[f]));
  opts.tick?.(0);
  const t0 = performance.now();
  await runOnPool(
    k,
    {
      what: 'wasm group quantize',
      n: Math.ceil(groups / chunk),
      counter: syncAt,
      cancel: syncAt + 4,
      threads,
      local: (i) => k.exports.quantize_groups(k.heapBase, i * chunk, Math.min(groups, (i + 1) * chunk)),
      worker: () => ({ fn: 'quantize_groups', args: [k.heapBase], chunk, total: groups }),
    },
    opts,
  );
  const kernelMs = performance.now() - t0;
  opts.tick?.(1);
  // Copies on the JS heap (a slice of a shared memory would be shared).
  const mem = k.memory.buffer;
  const out = new Float32Array(x.length);
  out.set(new Float32Array(mem, outAt, x.length));
  const codes = new Uint32Array(words);
  codes.set(new Uint32Array(mem, codesAt, words));
  const scales = new Float32Array(nScales);
  scales.set(new Float32Array(mem, scalesAt, nScales));
  return { out, codes, scales, bytes: top - k.heapBase, kernelMs };
}
