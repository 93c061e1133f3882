// Host side of the wasm group quantizer (quantize.c): one instance over its own memory (grown as
// needed), single-threaded. Copies x in, runs the groups in runs sized to ~TICK_MS with the caller's
// tick between them, and copies the dequantized values, packed codes and scales out.
import type { GroupLayout } from '../quantize-layout.js';
import { singleThreadKernel } from './module.js';
import { quantizeWasmBase64 } from './quantize.wasm.js';

interface QuantizeExports {
  quantize_groups(cfg: number, g0: number, g1: number): void;
  __heap_base: WebAssembly.Global;
}

const TICK_MS = 50;
const CFG = ['rows', 'len', 'G', 'nG', 'f1', 's1', 's2', 'js', 'c1', 'c2', 'c3', 'c4', 't1', 't2', 't3', 'bits', 'per', 'L', 'symmetric', 'halfUp', 'wide', 'x', 'out', 'codes', 'scales'] as const;

const { load, unavailable } = singleThreadKernel<QuantizeExports>(quantizeWasmBase64, 'wasm group-quantize kernel');

/** Why the wasm quantizer cannot run here, or undefined when it can. */
export function wasmQuantizeUnavailable(): string | undefined {
  return unavailable();
}

/**
 * Quantizes the groups of `layout` in x and dequantizes them: `out` is x with every grouped element
 * replaced (others copied), `codes` the packed words, `scales` the scales (symmetric) or (scale, min) pairs.
 */
export function groupQuantizeWasm(
  x: Float32Array,
  layout: GroupLayout,
  opts: {
    bits: number;
    symmetric: boolean;
    /** Round half up (Math.round); else half to even (torch.round). */
    roundHalfUp?: boolean;
    /** Min-max arithmetic in float64, rounded to f32 where stored: KIVI's reference (kivi.ts quantizeGroups). */
    float64?: boolean;
    tick?(fraction: number): void;
  },
): { out: Float32Array; codes: Uint32Array; scales: Float32Array; bytes: number } {
  const k = load();
  const per = Math.floor(32 / opts.bits);
  const nG = Math.ceil(layout.len / layout.groupSize);
  const groups = layout.rows * nG;
  const words = Math.ceil(layout.codes / per);
  const nScales = groups * (opts.symmetric ? 1 : 2);
  const align = (n: number) => (n + 63) & ~63;
  const xAt = align(k.heapBase + CFG.length * 4);
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
  new Float32Array(buf, outAt, x.length).set(x);
  new Uint32Array(buf, codesAt, words).fill(0);
  const l = layout;
  const vals: Record<(typeof CFG)[number], number> = {
    rows: l.rows, len: l.len, G: l.groupSize, nG, f1: l.f1, s1: l.s1, s2: l.s2, js: l.js, c1: l.c1, c2: l.c2, c3: l.c3, c4: l.c4,
    t1: l.t1, t2: l.t2, t3: l.t3, bits: opts.bits, per, L: opts.symmetric ? 2 ** (opts.bits - 1) - 1 : 2 ** opts.bits - 1,
    symmetric: opts.symmetric ? 1 : 0, halfUp: opts.roundHalfUp ? 1 : 0, wide: opts.float64 ? 1 : 0, x: xAt, out: outAt, codes: codesAt, scales: scalesAt,
  };
  const cfg = new Uint32Array(buf, k.heapBase, CFG.length);
  CFG.forEach((f, i) => (cfg[i] = vals[f]));
  opts.tick?.(0);
  let run = 1024;
  for (let g0 = 0; g0 < groups; ) {
    const g1 = Math.min(groups, g0 + run);
    const t0 = performance.now();
    k.exports.quantize_groups(k.heapBase, g0, g1);
    const ms = performance.now() - t0;
    g0 = g1;
    if (ms < TICK_MS / 2) run *= 2;
    else if (ms > TICK_MS) run = Math.max(1, Math.floor(run / 2));
    opts.tick?.(g0 / groups);
  }
  return {
    out: new Float32Array(buf.slice(outAt, outAt + x.byteLength)),
    codes: new Uint32Array(buf.slice(codesAt, codesAt + words * 4)),
    scales: new Float32Array(buf.slice(scalesAt, scalesAt + nScales * 4)),
    bytes: top - k.heapBase,
  };
}
