// Costs state each variant's true complexity, and bad params fail with a message naming the param.
import { describe, expect, it } from 'vitest';
import { tensorShape } from '../../engine/values.js';
import { attention } from './index.js';

function flops(params: Record<string, unknown>, T: number, D = 64, bias = false): number {
  const t = (H: number, d = D) => tensorShape('float32', [H, T, d]);
  const ins = { q: t(8), k: t(2), v: t(2), bias: bias ? { kind: 'bias' as const } : undefined, cache: undefined };
  const p = attention.params.parse(params);
  return attention.cost!(ins, p, attention.infer(ins, p)).flops;
}

/** flops(2·T) / flops(T) at T = 8192. */
const growth = (params: Record<string, unknown>, bias = false) => flops(params, 16384, 64, bias) / flops(params, 8192, 64, bias);

describe('attention cost', () => {
  it.each([
    [{ variant: 'naive' }, 4],
    [{ variant: 'flash-decoding' }, 4],
    [{ variant: 'relu' }, 4],
    [{ variant: 'sliding-window', window: 512 }, 2],
    [{ variant: 'longformer', window: 512, globalTokens: 8 }, 2],
    [{ variant: 'bigbird', blockSize: 64 }, 2],
    [{ variant: 'dilated', segmentLengths: [512, 2048], dilationRates: [1, 4] }, 2],
    [{ variant: 'linformer', projectedLength: 256 }, 2],
    [{ variant: 'linear' }, 2],
    [{ variant: 'cosformer' }, 2],
    [{ variant: 'sima' }, 2],
    // Non-causal: causal SOFT adds a T-independent iterations·m⁴ (a pseudo-inverse per landmark prefix).
    [{ variant: 'soft', landmarks: 64, causal: false }, 2],
  ])('%j: doubling T multiplies the flops by %d', (params, factor) => {
    expect(growth(params)).toBeCloseTo(factor, 1);
  });

  it('sliding window: O(T·window·D) — doubling the window doubles the work', () => {
    const r = flops({ variant: 'sliding-window', window: 1024 }, 16384) / flops({ variant: 'sliding-window', window: 512 }, 16384);
    expect(r).toBeGreaterThan(1.8);
    expect(r).toBeLessThan(2.1);
  });

  it('dilated: a pair (w, r) costs about T·w/r²', () => {
    const one = flops({ variant: 'dilated', segmentLengths: [2048], dilationRates: [1] }, 16384);
    const four = flops({ variant: 'dilated', segmentLengths: [2048], dilationRates: [4] }, 16384);
    expect(one / four).toBeCloseTo(16, 0);
  });

  it('linear attention: O(T·D²) — doubling D quadruples the non-causal work', () => {
    const r = flops({ variant: 'linear', causal: false }, 8192, 128) / flops({ variant: 'linear', causal: false }, 8192, 64);
    expect(r).toBeGreaterThan(3.8);
    expect(r).toBeLessThan(4.1);
  });

  it('a connected bias makes the kernelized variants quadratic (masks have no prefix-sum form)', () => {
    expect(growth({ variant: 'linear' }, true)).toBeCloseTo(4, 1);
    expect(growth({ variant: 'linformer' }, true)).toBeCloseTo(4, 1);
  });

  it('sparse variants never hold T×T: their workspace is O(T) (gathered K/V, one head at a time)', () => {
    for (const p of [{ variant: 'sliding-window', window: 256 }, { variant: 'bigbird' }, { variant: 'linear' }, { variant: 'dilated', segmentLengths: [256], dilationRates: [1] }]) {
      const ws = (T: number) => {
        const s = (H: number) => tensorShape('float32', [H, T, 64]);
        const ins = { q: s(8), k: s(2), v: s(2), bias: undefined, cache: undefined };
        const parsed = attention.params.parse(p);
        const c = attention.cost!(ins, parsed, attention.infer(ins, parsed));
        return c.workspaceBytes - (T * 64 * 3 + 2 * T * 64) * 4; // minus one head's q, k, v and features
      };
      // A 65536×65536 f32 score matrix is 16 GiB; these stay under 1/64 of it.
      expect(ws(65536), JSON.stringify(p)).toBeLessThan((65536 * 65536 * 4) / 64);
    }
  });
});

describe('attention params', () => {
  it('dilated needs one rate per segment length', () => {
    const r = attention.params.safeParse({ variant: 'dilated', segmentLengths: [64, 128], dilationRates: [1] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['dilationRates']);
    expect(r.error!.issues[0]!.message).toMatch(/same length/);
  });
  it('bigbird needs an odd window', () => {
    const r = attention.params.safeParse({ variant: 'bigbird', windowBlocks: 2 });
    expect(r.error!.issues[0]!.path).toEqual(['windowBlocks']);
  });
  it('defaults follow the issue: bigbird 3 window, 2 global, 3 random blocks', () => {
    expect(attention.params.parse({ variant: 'bigbird' })).toMatchObject({ windowBlocks: 3, globalBlocks: 2, randomBlocks: 3, causal: true });
  });
  it('accepts an optional kv cache input', () => {
    const t = tensorShape('float32', [4, 32, 8]);
    const out = attention.infer({ q: t, k: t, v: t, bias: undefined, cache: { kind: 'kv', shape: [4, 32, 8] } }, attention.params.parse({ variant: 'naive' }));
    expect(out.out?.shape).toEqual([4, 32, 8]);
  });
});
