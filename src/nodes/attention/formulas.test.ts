// Hand-checked tiny cases: expected values worked out on paper from each technique's definition
// (D = 1 or 2, scale 1, T ≤ 6), run through both the kernel (cpu) and the plain-TS reference.
import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { expectClose, runNode, runReference } from '../testing.js';
import { attention } from './index.js';
import { linformerProjections } from './linformer.js';
import { naiveAttentionReference } from './reference.js';

const E = Math.E;
const col = (xs: number[]) => f32([1, xs.length, 1], xs);

/** Runs the kernel and the reference; both must give `want` (rows of the only head, Dv = 1 unless given). */
async function check(ins: { q: Tensor; k: Tensor; v: Tensor }, params: Record<string, unknown>, want: number[], atol = 1e-5) {
  const p = { scale: 1, ...params };
  const got = (await runNode(attention, ins, p, { connected: ['out'] })).out as Tensor;
  expectClose(got.data, want, { atol }, `${String(params.variant)} kernel`);
  expectClose((runReference(attention, ins, p).out as Tensor).data, want, { atol }, `${String(params.variant)} reference`);
}

describe('sliding-window', () => {
  // q·k = k_j (q = 1): weights e^0, e^1, e^2 for keys 0, 1, 2.
  const ins = { q: col([1, 1, 1]), k: col([0, 1, 2]), v: col([1, 2, 4]) };
  it('causal window 2: each query sees itself and the previous key', () =>
    check(ins, { variant: 'sliding-window', window: 2, causal: true }, [1, (1 + 2 * E) / (1 + E), (2 * E + 4 * E * E) / (E + E * E)]));
  it('non-causal window 2: ±1', () =>
    check(ins, { variant: 'sliding-window', window: 2, causal: false }, [
      (1 + 2 * E) / (1 + E),
      (1 + 2 * E + 4 * E * E) / (1 + E + E * E),
      (2 * E + 4 * E * E) / (E + E * E),
    ]));
  it('a window as long as the sequence is exact attention', async () => {
    const q = f32([2, 9, 3], Array.from({ length: 54 }, (_, i) => Math.sin(i)));
    const k = f32([1, 9, 3], Array.from({ length: 27 }, (_, i) => Math.cos(i)));
    const v = f32([1, 9, 2], Array.from({ length: 18 }, (_, i) => i / 7));
    const got = (await runNode(attention, { q, k, v }, { variant: 'sliding-window', window: 9 }, { connected: ['out'] })).out as Tensor;
    expectClose(got.data, naiveAttentionReference(q, k, v, { causal: true }).data, { atol: 1e-6 });
  });
});

describe('longformer', () => {
  // q = 0: uniform weights over the visible keys.
  const ins = { q: col([0, 0, 0, 0]), k: col([5, -3, 2, 7]), v: col([1, 2, 4, 8]) };
  it('causal, window 1, one global token: each query sees token 0 and itself', () =>
    check(ins, { variant: 'longformer', window: 1, globalTokens: 1, causal: true }, [1, 1.5, 2.5, 4.5]));
  it('non-causal: the global token sees everything', () =>
    check(ins, { variant: 'longformer', window: 1, globalTokens: 1, causal: false }, [3.75, 1.5, 2.5, 4.5]));
});

describe('bigbird (blockSize 1, so blocks are tokens)', () => {
  const v = [1, 2, 4, 8, 16, 32];
  const ins = { q: col([0, 0, 0, 0, 0, 0]), k: col([1, 2, 3, 4, 5, 6]), v: col(v) };
  const mean = (...js: number[]) => js.reduce((a, j) => a + v[j]!, 0) / js.length;
  const base = { variant: 'bigbird', blockSize: 1, windowBlocks: 1, globalBlocks: 2, randomBlocks: 0 };
  it('non-causal: the first and last blocks are global', () =>
    check(ins, { ...base, causal: false }, [mean(0, 1, 2, 3, 4, 5), mean(0, 1, 5), mean(0, 2, 5), mean(0, 3, 5), mean(0, 4, 5), mean(0, 1, 2, 3, 4, 5)]));
  it('causal, one random block: block 2 can only draw block 1; blocks 3, 4 draw one of blocks 1, 2', async () => {
    const p = { ...base, randomBlocks: 1, causal: true, scale: 1 };
    const got = (await runNode(attention, ins, p, { connected: ['out'] })).out as Tensor;
    expectClose(got.data, (runReference(attention, ins, p).out as Tensor).data, { atol: 1e-6 });
    expectClose([got.data[0]!, got.data[1]!, got.data[2]!, got.data[5]!], [mean(0), mean(0, 1), mean(0, 1, 2), mean(0, 1, 2, 3, 4, 5)], { atol: 1e-5 });
    for (const I of [3, 4]) expect([1, 2].some((J) => Math.abs(mean(0, J, I) - got.data[I]!) < 1e-5), `row ${I}`).toBe(true);
  });
});

describe('dilated (LongNet)', () => {
  // q = 0, v = 1, 2, 4, 8; pairs (2, 1) and (4, 2). Every pair's denominator is its key count.
  const v = col([1, 2, 4, 8]);
  const q = f32([2, 4, 1], [0, 0, 0, 0, 0, 0, 0, 0]);
  const k = f32([1, 4, 1], [3, 1, 4, 1]);
  const p = { variant: 'dilated', segmentLengths: [2, 4], dilationRates: [1, 2], causal: false };
  it('combines the pairs weighted by their softmax denominators; head 1 uses offset 1', async () => {
    // Head 0, row 0: pair 1 sees {0, 1} (s = 2), pair 2 sees {0, 2} (s = 2): (2·1 + 2 + 4)/4 = 2.
    // Row 1: only pair 1: 1.5. Row 2: ({2, 3} and {0, 2}) (1 + 2·4 + 8)/4 = 4.25. Row 3: 6.
    // Head 1 keeps {1, 3} in pair 2: row 0 1.5, row 1 (1 + 2·2 + 8)/4 = 3.25, row 2 6, row 3 (2 + 4 + 2·8)/4 = 5.5.
    const want = [2, 1.5, 4.25, 6, 1.5, 3.25, 6, 5.5];
    await check({ q, k, v }, p, want);
  });
});

describe('linformer', () => {
  // With k = 1 there is one projected key, so softmax gives it weight 1 whatever q is:
  // non-causal O_i = F[0]·v; causal O_i = Σ_{j ≤ i} F[0, j]·v_j.
  const { F } = linformerProjections(1, 3, 5);
  const ins = { q: col([0.3, -2, 1]), k: col([1, 2, 3]), v: col([1, 10, 100]) };
  const fv = [F[0]! * 1, F[0]! * 1 + F[1]! * 10, F[0]! * 1 + F[1]! * 10 + F[2]! * 100];
  it('non-causal, k = 1: every row is F·V', () => check(ins, { variant: 'linformer', projectedLength: 1, seed: 5, causal: false }, [fv[2]!, fv[2]!, fv[2]!], 1e-4));
  it('causal, k = 1: prefix mixtures', () => check(ins, { variant: 'linformer', projectedLength: 1, seed: 5, causal: true }, fv, 1e-4));
  it("'mean' projection, k = 2: attention over the means of two halves", () => {
    const ins2 = { q: col([1, 1, 1, 1]), k: col([0, 0, 2, 2]), v: col([1, 3, 10, 20]) };
    const o = (2 + E * E * 15) / (1 + E * E);
    return check(ins2, { variant: 'linformer', projectedLength: 2, projection: 'mean', causal: false }, [o, o, o, o]);
  });
  it('E and F have entries N(0, 1/k)', () => {
    const { E: e } = linformerProjections(16, 4096, 1);
    const mean = e.reduce((a, x) => a + x, 0) / e.length;
    const variance = e.reduce((a, x) => a + (x - mean) ** 2, 0) / e.length;
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(variance).toBeCloseTo(1 / 16, 3);
  });
});

describe('linear (elu + 1)', () => {
  // φ(1) = 2, φ(−1) = e^−1, φ(0) = 1, φ(1) = 2.
  const ins = { q: col([1, -1]), k: col([0, 1]), v: col([1, 3]) };
  it('causal', () => check(ins, { variant: 'linear', causal: true }, [1, (1 / E + (2 / E) * 3) / (1 / E + 2 / E)]));
  it('non-causal', () => check(ins, { variant: 'linear', causal: false }, [(2 + 4 * 3) / 6, 7 / 3]));
});

describe('cosformer', () => {
  // M = 2: pairs one apart weigh cos(π/4); relu(q)·relu(k) = k here.
  const c = Math.cos(Math.PI / 4);
  const ins = { q: col([1, 1]), k: col([1, 2]), v: col([1, 3]) };
  it('causal', () => check(ins, { variant: 'cosformer', causal: true }, [1, (c * 1 + 2 * 3) / (c + 2)]));
  it('non-causal', () => check(ins, { variant: 'cosformer', causal: false }, [(1 + 2 * c * 3) / (1 + 2 * c), (c + 6) / (c + 2)]));
  it('ignores scale (ReLU features are homogeneous)', () => check(ins, { variant: 'cosformer', causal: true, scale: 7 }, [1, (c * 1 + 2 * 3) / (c + 2)]));
});

describe('relu', () => {
  const ins = { q: col([1, 1]), k: col([1, -2]), v: col([2, 5]) };
  it('causal: divided by the keys each query sees', () => check(ins, { variant: 'relu', causal: true }, [2, (2 + 0) / 2]));
  it('non-causal', () => check(ins, { variant: 'relu', causal: false }, [1, 1]));
});

describe('sima', () => {
  // q̂0 = [½, ½], q̂1 = [¾, −¼]; k̂0 = [1, 0], k̂1 = [0, −1]; no normalisation of the weights.
  const q = f32([1, 2, 2], [1, 1, 3, -1]);
  const k = f32([1, 2, 2], [2, 0, 0, -1]);
  const v = col([1, 4]);
  it('causal', () => check({ q, k, v }, { variant: 'sima', causal: true }, [0.5, 0.75 * 1 + 0.25 * 4]));
  it('non-causal', () => check({ q, k, v }, { variant: 'sima', causal: false }, [0.5 + -0.5 * 4, 1.75]));
});

describe('soft', () => {
  // With one landmark per key (m = T) and well separated keys, Nyström is exact: the output is
  // Σ_j exp(−(q_i − k_j)²/2)·v_j.
  const qs = [0.2, 3.1, 5.5, -0.4];
  const ks = [0, 3, 6, 9];
  const vs = [1, -2, 3, 0.5];
  const want = (causal: boolean, normalize: boolean) =>
    qs.map((qi, i) => {
      let num = 0;
      let den = 0;
      ks.forEach((kj, j) => {
        if (causal && j > i) return;
        const w = Math.exp(-((qi - kj) ** 2) / 2);
        num += w * vs[j]!;
        den += w;
      });
      return normalize ? num / den : num;
    });
  const ins = { q: col(qs), k: col(ks), v: col(vs) };
  it('landmarks = T: the exact Gaussian kernel, unnormalised', () => check(ins, { variant: 'soft', landmarks: 4, causal: false }, want(false, false), 1e-4));
  it('causal, normalised', () => check(ins, { variant: 'soft', landmarks: 4, causal: true, normalize: true }, want(true, true), 1e-4));
});
