// Causal means causal: for every registered attention variant, changing the keys and values at
// positions j ≥ CUT must leave every output at i < CUT unchanged — on the kernel and on the
// reference, with and without fewer queries than keys. A variant that summarises all keys (SOFT's
// landmarks, Linformer's projections) fails here if it lets the future in.
import { describe, expect, it } from 'vitest';
import { variantName } from '../../engine/variants.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian } from '../common/random.js';
import { runNode, runReference } from '../testing.js';
import { attention, variants } from './index.js';

const T = 48;
const CUT = 20;
const rand = (shape: number[], seed: number): Tensor => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b)), seed, ...shape));

/** Small, valid params per variant (defaults elsewhere), so windows and blocks fit T = 48. */
const small: Record<string, Record<string, unknown>> = {
  'flash-decoding': { numSplits: 3 },
  flash: { blockSize: 16 },
  'sliding-window': { window: 7 },
  longformer: { window: 6, globalTokens: 3 },
  dilated: { segmentLengths: [8, 16, 48], dilationRates: [1, 2, 4] },
  bigbird: { blockSize: 8, seed: 3 },
  linformer: { projectedLength: 8 },
  soft: { landmarks: 8 },
  paged: { blockSize: 4 },
};

/** k and v with every position j ≥ CUT replaced by other random values. */
function changeFuture(t: Tensor, seed: number): Tensor {
  const [H, Tk, D] = t.shape as [number, number, number];
  const other = rand([H, Tk, D], seed).data;
  const data = Float32Array.from(t.data as Float32Array);
  for (let h = 0; h < H; h++) for (let j = CUT; j < Tk; j++) for (let d = 0; d < D; d++) data[(h * Tk + j) * D + d] = other[(h * Tk + j) * D + d]!;
  return f32([H, Tk, D], data);
}

/** Largest change among outputs of queries at absolute positions < CUT. */
function pastChange(a: Tensor, b: Tensor, Tk: number): number {
  const [H, Tq, Dv] = a.shape as [number, number, number];
  let worst = 0;
  for (let h = 0; h < H; h++)
    for (let r = 0; r < Tq; r++) {
      if (Tk - Tq + r >= CUT) continue;
      for (let d = 0; d < Dv; d++) worst = Math.max(worst, Math.abs(a.data[(h * Tq + r) * Dv + d]! - b.data[(h * Tq + r) * Dv + d]!));
    }
  return worst;
}

const k = rand([2, T, 8], 2);
const v = rand([2, T, 6], 3);
const k2 = changeFuture(k, 12);
const v2 = changeFuture(v, 13);

// Variants whose params refuse causal: true (bidirectional by design, e.g. star's relay) are not causal kernels.
const causalVariants = variants.filter((v) => v.params.safeParse({ variant: variantName(v), causal: true }).success);
describe.each(causalVariants.map(variantName))('causal attention "%s" does not see the future', (name) => {
  const params = { variant: name, causal: true, ...small[name] };
  for (const [label, q] of [['all queries', rand([4, T, 8], 1)], ['last 36 queries', rand([4, 36, 8], 4)]] as const) {
    it(`${label}: outputs before position ${CUT} ignore keys and values from ${CUT} on (kernel)`, async () => {
      const a = (await runNode(attention, { q, k, v }, params, { connected: ['out'] })).out as Tensor;
      const b = (await runNode(attention, { q, k: k2, v: v2 }, params, { connected: ['out'] })).out as Tensor;
      // Sanity: the future did change something (later outputs move), so the test has teeth.
      expect(Math.max(...a.data.map((x, i) => Math.abs(x - b.data[i]!)))).toBeGreaterThan(1e-3);
      expect(pastChange(a, b, T)).toBeLessThan(1e-6);
    });
    it(`${label}: the same on the reference`, () => {
      const a = runReference(attention, { q, k, v }, params).out as Tensor;
      const b = runReference(attention, { q, k: k2, v: v2 }, params).out as Tensor;
      expect(pastChange(a, b, T)).toBeLessThan(1e-6);
    });
  }
});
