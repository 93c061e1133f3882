// Segmenters against hand-worked layouts, and against their claims once wired into RoPE + attention:
// a PCW / fixed window scores exactly as if it ran alone; M identical Structured Prompting groups
// rescaled by 1/M look like one group to the test tokens.
import { describe, expect, it } from 'vitest';
import { headBias } from '../common/bias.js';
import { ShapeError } from '../../engine/node.js';
import { f32, i32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue, MetricsValue, TokensValue } from '../../engine/values.js';
import { attention } from '../attention/index.js';
import { fillGaussian } from '../common/random.js';
import { position } from '../position/index.js';
import { expectClose, runNode, runReference } from '../testing.js';
import { segment } from './index.js';

const like = (T: number) => f32([T, 1]);
function seg(params: Record<string, unknown>, T: number) {
  const out = runReference(segment, { like: like(T) }, params);
  return {
    positions: Array.from((out.positions as Tensor).data),
    bias: out.bias as BiasValue,
    windows: (out.windows as MetricsValue).values as Record<string, any>,
  };
}
/** allowed(i, j) for every pair, as rows of 0/1 strings. */
function maskOf(bias: BiasValue, T: number): string[] {
  const hb = headBias(bias, 0);
  return Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (hb.allowed(i, j) ? '1' : '.')).join(''));
}

describe('segment layouts by hand', () => {
  it('fixed, W = 4, overlap 1, T = 10: windows [0,4) [3,7) [6,10); pairs allowed when a window holds both', () => {
    const { positions, bias, windows } = seg({ variant: 'fixed', windowSize: 4, overlap: 1 }, 10);
    expect(windows.windows).toEqual([[0, 4], [3, 7], [6, 10]]);
    expect(windows.count).toBe(3);
    expect(positions).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maskOf(bias, 10)).toEqual([
      '1111......',
      '1111......',
      '1111......',
      '1111111...',
      '...1111...',
      '...1111...',
      '...1111111',
      '......1111',
      '......1111',
      '......1111',
    ]);
  });

  it('fixed without overlap is block-diagonal, the last window shorter', () => {
    const { bias, windows } = seg({ variant: 'fixed', windowSize: 3, overlap: 0 }, 7);
    expect(windows.windows).toEqual([[0, 3], [3, 6], [6, 7]]);
    expect(maskOf(bias, 7)).toEqual(['111....', '111....', '111....', '...111.', '...111.', '...111.', '......1']);
  });

  it('pcw, C = 4, 3 task tokens, T = 11: windows reuse 0..3, the task continues at 4', () => {
    const { positions, bias, windows } = seg({ variant: 'pcw', contextWindowSize: 4, taskTokens: 3 }, 11);
    expect(positions).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6]);
    expect(windows).toMatchObject({ count: 2, windows: [[0, 4], [4, 8]], task: [8, 11], maxPosition: 6 });
    expect(maskOf(bias, 11)).toEqual([
      '1111.......',
      '1111.......',
      '1111.......',
      '1111.......',
      '....1111...',
      '....1111...',
      '....1111...',
      '....1111...',
      '11111111111',
      '11111111111',
      '11111111111',
    ]);
  });

  it('pcw with a short last window: task positions still start at C', () => {
    const { positions, windows } = seg({ variant: 'pcw', contextWindowSize: 4, taskTokens: 3 }, 12);
    expect(positions).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 4, 5, 6]);
    expect(windows.windows).toEqual([[0, 4], [4, 8], [8, 9]]);
  });

  it('streaming: positions 0..T−1 and a sinks + recent mask', () => {
    const { positions, bias, windows } = seg({ variant: 'streaming', sinkTokens: 1, recentTokens: 2 }, 5);
    expect(positions).toEqual([0, 1, 2, 3, 4]);
    expect(bias.terms).toEqual([{ type: 'streaming', sinkTokens: 1, recentTokens: 2 }]);
    expect(windows).toMatchObject({ sinks: [0, 1], keysPerQuery: 3 });
    // Sinks are always visible; otherwise only the last two keys up to and including the query itself.
    expect(maskOf(bias, 5)).toEqual(['1....', '11...', '111..', '1.11.', '1..11']);
  });

  it('structured, groups [3, 2] + 4 test tokens: right-aligned positions, test tokens see all, −ln 2', () => {
    const { positions, bias, windows } = seg({ variant: 'structured', groups: 2, groupLengths: [3, 2], taskTokens: 4 }, 9);
    expect(positions).toEqual([0, 1, 2, 1, 2, 3, 4, 5, 6]);
    expect(windows).toMatchObject({ count: 2, windows: [[0, 3], [3, 5]], task: [5, 9], maxPosition: 6 });
    const hb = headBias(bias, 0);
    expect([hb.allowed(4, 2), hb.allowed(4, 3), hb.allowed(6, 0), hb.allowed(6, 4)]).toEqual([false, true, true, true]);
    expect(hb.add(6, 0)).toBeCloseTo(-Math.LN2, 15);
    expect(hb.add(7, 6)).toBe(0);
    expect(hb.add(1, 0)).toBe(0);
  });

  it('structured splits the context evenly, longer groups first', () => {
    const { positions, windows } = seg({ variant: 'structured', groups: 3, taskTokens: 2 }, 10);
    expect(windows.windows).toEqual([[0, 3], [3, 6], [6, 8]]);
    expect(positions).toEqual([0, 1, 2, 0, 1, 2, 1, 2, 3, 4]);
  });
});

describe('segment inputs and errors', () => {
  const tokens = (T: number): TokensValue => ({ kind: 'tokens', ids: new Int32Array(T), offsets: new Int32Array(2 * T), text: '', encoding: 'bytes' });
  const p = { variant: 'pcw', contextWindowSize: 2, taskTokens: 1 };
  const lengthFrom = (ins: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    (runReference(segment, ins as never, { ...p, ...extra }).positions as Tensor).shape[0];

  it('reads T from tokens, from dim −2 of a tensor (or dim 0 of a vector), or from `length`', () => {
    expect(lengthFrom({ tokens: tokens(7) })).toBe(7);
    expect(lengthFrom({ like: f32([4, 9, 8]) })).toBe(9);
    expect(lengthFrom({ like: f32([9, 16]) })).toBe(9);
    expect(lengthFrom({ like: i32([5]) })).toBe(5);
    expect(lengthFrom({}, { length: 6 })).toBe(6);
  });

  it('refuses both inputs, neither without length, and a disagreeing length, naming the port', () => {
    expect(() => lengthFrom({ tokens: tokens(3), like: f32([3, 1]) })).toThrow(/either `tokens` or `like`, not both/);
    expect(() => lengthFrom({})).toThrow(ShapeError);
    expect(() => lengthFrom({})).toThrow(/connect `tokens`/);
    expect(() => lengthFrom({ tokens: tokens(3) }, { length: 4 })).toThrow(/length param \(4\) disagrees with T = 3 from "tokens"/);
  });

  it('infer gives int32 [T] positions and checks params against T', () => {
    const parsed = segment.params.parse(p);
    const out = segment.infer({ tokens: undefined, like: { kind: 'tensor', dtype: 'float32', shape: [2, 50, 8] } }, parsed);
    expect(out.positions).toMatchObject({ dtype: 'int32', shape: [50] });
    const unknown = segment.infer({ tokens: { kind: 'tokens', shape: [null] }, like: undefined }, parsed);
    expect(unknown.positions?.shape).toEqual([null]);
    expect(() => segment.infer({ tokens: undefined, like: { kind: 'tensor', shape: [1, 1] } }, parsed)).toThrow(/taskTokens \(1\) must be fewer than the 1 tokens/);
    expect(() => segment.params.parse({ variant: 'fixed', windowSize: 0 })).toThrow();
    expect(() => seg({ variant: 'fixed', windowSize: 4, overlap: 4 }, 10)).toThrow(/overlap \(4\) must be smaller than windowSize \(4\)/);
    expect(() => seg({ variant: 'structured', groups: 2, groupLengths: [3, 3], taskTokens: 1 }, 8)).toThrow(/sum to 6 but T − taskTokens = 8 − 1 = 7/);
  });
});

describe('segments wired into RoPE and attention', () => {
  const H = 2;
  const D = 8;
  const qkv = (T: number, seed: number) => {
    const g = (n: number, s: number) => f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, s), ['H', 'T', 'D']);
    return { q: g(T, 1), k: g(T, 2), v: g(T, 3) };
  };
  /** Rows [r0, r1) of every head of a [H, T, D] tensor. */
  const rows = (t: Tensor, r0: number, r1: number) => {
    const T = t.shape[1]!;
    const out = new Float32Array(H * (r1 - r0) * D);
    for (let h = 0; h < H; h++) out.set(t.data.subarray((h * T + r0) * D, (h * T + r1) * D) as Float32Array, h * (r1 - r0) * D);
    return f32([H, r1 - r0, D], out, ['H', 'T', 'D']);
  };
  /** RoPE at `positions`, then causal naive attention with `bias` (references only). */
  function attend(x: { q: Tensor; k: Tensor; v: Tensor }, positions: Tensor | undefined, bias?: BiasValue) {
    const rot = runReference(position, { q: x.q, k: x.k, positions }, { variant: 'rope' });
    return runReference(attention, { q: rot.q, k: rot.k, v: x.v, bias }, { variant: 'naive', causal: true }).out as Tensor;
  }

  it('pcw: a context window attends exactly as if it ran alone at positions 0..C−1', () => {
    const x = qkv(13, 4); // windows [0,5) [5,10), task [10,13)
    const s = runReference(segment, { like: x.q }, { variant: 'pcw', contextWindowSize: 5, taskTokens: 3 });
    const full = attend(x, s.positions as Tensor, s.bias as BiasValue);
    const alone = attend({ q: rows(x.q, 5, 10), k: rows(x.k, 5, 10), v: rows(x.v, 5, 10) }, undefined);
    expectClose(rows(full, 5, 10).data, alone.data, { atol: 1e-5 });
  });

  it('fixed with overlap: tokens new to a window attend as if the window ran alone', () => {
    const x = qkv(12, 5); // W = 5, overlap 2: windows [0,5) [3,8) [6,11) [9,12)
    const s = runReference(segment, { like: x.q }, { variant: 'fixed', windowSize: 5, overlap: 2 });
    const full = attend(x, s.positions as Tensor, s.bias as BiasValue);
    const alone = attend({ q: rows(x.q, 3, 8), k: rows(x.k, 3, 8), v: rows(x.v, 3, 8) }, undefined);
    // Rows 5..7 belong to window [3, 8) and not to [0, 5): they see keys 3..i only.
    expectClose(rows(full, 5, 8).data, rows(alone, 2, 5).data, { atol: 1e-5 });
  });

  it('structured: M identical groups rescaled by 1/M look like one group to the test tokens', () => {
    const one = qkv(7, 6); // one group [0,4), test tokens [4,7)
    const dup = (t: Tensor) => {
      const g = rows(t, 0, 4);
      const test = rows(t, 4, 7);
      const out = new Float32Array(H * 11 * D);
      for (let h = 0; h < H; h++) {
        const gh = g.data.subarray(h * 4 * D, (h + 1) * 4 * D) as Float32Array;
        out.set(gh, h * 11 * D);
        out.set(gh, (h * 11 + 4) * D);
        out.set(test.data.subarray(h * 3 * D, (h + 1) * 3 * D) as Float32Array, (h * 11 + 8) * D);
      }
      return f32([H, 11, D], out, ['H', 'T', 'D']);
    };
    const two = { q: dup(one.q), k: dup(one.k), v: dup(one.v) };
    const s = runReference(segment, { like: two.q }, { variant: 'structured', groups: 2, taskTokens: 3 });
    const grouped = attend(two, s.positions as Tensor, s.bias as BiasValue);
    const plain = attend(one, undefined);
    expectClose(rows(grouped, 8, 11).data, rows(plain, 4, 7).data, { atol: 1e-5 });
    // Without the −ln M rescaling the groups would weigh twice: the outputs differ.
    const unscaled = { kind: 'bias' as const, terms: [{ ...(s.bias as BiasValue).terms[0]!, crossLogit: 0 }] as BiasValue['terms'] };
    const off = attend(two, s.positions as Tensor, unscaled);
    expect(Math.max(...rows(off, 8, 11).data.map((v, i) => Math.abs(v - rows(plain, 4, 7).data[i]!)))).toBeGreaterThan(1e-3);
  });

  it('run() on a backend gives the same values as the reference', async () => {
    const out = await runNode(segment, { like: f32([3, 20, 4]) }, { variant: 'pcw', contextWindowSize: 8, taskTokens: 4 });
    const ref = runReference(segment, { like: f32([3, 20, 4]) }, { variant: 'pcw', contextWindowSize: 8, taskTokens: 4 });
    expect(Array.from((out.positions as Tensor).data)).toEqual(Array.from((ref.positions as Tensor).data));
    expect(out.windows).toEqual(ref.windows);
  });
});
