import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type MetricsValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { mambaBlock, mambaDims, mambaWeights } from './mamba-block.js';

const gauss = (shape: number[], seed: number) => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed));
const small = { dModel: 8, dState: 4, dConv: 3, expand: 2, seed: 3 };
const parse = (p: object) => mambaBlock.params.parse(p);

describe('ssm.mamba-block', () => {
  it("initialises as Mamba: A = −(1..N), D = 1, softplus(dt bias) log-uniform in [dtMin, dtMax], U(±1/√fan_in) layers", () => {
    const p = parse({ dModel: 64, seed: 1 });
    const { dInner, N, R } = mambaDims(p);
    expect([dInner, N, R]).toEqual([128, 16, 4]); // dtRank = ⌈64/16⌉
    const w = mambaWeights(p);
    expect(Array.from(w.A.subarray(0, N))).toEqual(Array.from({ length: N }, (_, n) => -(n + 1)));
    expect(Array.from(w.A.subarray((dInner - 1) * N))).toEqual(Array.from({ length: N }, (_, n) => -(n + 1)));
    expect(w.D.every((d) => d === 1)).toBe(true);
    const dt = Array.from(w.dtBias, (b) => Math.log1p(Math.exp(b)));
    expect(Math.min(...dt)).toBeGreaterThanOrEqual(0.001 * (1 - 1e-5));
    expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 * (1 + 1e-5));
    // log-uniform: mean of ln Δ near the middle of [ln 1e−3, ln 0.1] (±0.4 for 128 samples of sd 1.33).
    const meanLog = dt.reduce((s, x) => s + Math.log(x), 0) / dt.length;
    expect(Math.abs(meanLog - (Math.log(0.001) + Math.log(0.1)) / 2)).toBeLessThan(0.4);
    const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(maxAbs(w.inProj)).toBeLessThanOrEqual(1 / 8);
    expect(maxAbs(w.inProj)).toBeGreaterThan(0.9 / 8);
    expect(maxAbs(w.dtW)).toBeLessThanOrEqual(1 / 2); // dtRank^−½
    expect(maxAbs(w.outProj)).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(parse({ dModel: 100 }).dtRank ?? mambaDims(parse({ dModel: 100 })).R).toBe(7);
  });

  it('computes the composition of its layers (two tokens, written out by hand)', () => {
    // Independent forward for L = 2 from the weights: conv taps (K−1 on the current token, K−2 on the
    // previous), Δ = softplus(W_Δ·dt + b), x_1 = Δ·B·u, x_2 = e^{Δ·A}·x_1 + Δ·B·u, y = (C·x + u)·silu(z).
    const p = parse(small);
    const { dModel, dInner, N, K, R } = mambaDims(p);
    const w = mambaWeights(p);
    const h = gauss([2, dModel], 11);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>, ao: number, bo: number, n: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[ao + i]! * b[bo + i]!;
      return s;
    };
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const proj = [0, 1].map((l) => Array.from({ length: 2 * dInner }, (_, o) => dot(h.data, w.inProj, l * dModel, o * dModel, dModel)));
    const u = [0, 1].map((l) =>
      Array.from({ length: dInner }, (_, d) => silu(w.convB[d]! + w.convW[d * K + K - 1]! * proj[l]![d]! + (l > 0 ? w.convW[d * K + K - 2]! * proj[l - 1]![d]! : 0))));
    const state = Array.from({ length: dInner }, () => new Array<number>(N).fill(0));
    const want: number[] = [];
    for (const l of [0, 1]) {
      const dbl = Array.from({ length: R + 2 * N }, (_, o) => dot(u[l]!, w.xProj, 0, o * dInner, dInner));
      const y = Array.from({ length: dInner }, (_, d) => {
        const delta = Math.log1p(Math.exp(dot(w.dtW, dbl, d * R, 0, R) + w.dtBias[d]!));
        let acc = u[l]![d]!; // D = 1
        for (let n = 0; n < N; n++) {
          state[d]![n] = Math.exp(delta * w.A[d * N + n]!) * state[d]![n]! + delta * dbl[R + n]! * u[l]![d]!;
          acc += state[d]![n]! * dbl[R + N + n]!;
        }
        return acc * silu(proj[l]![dInner + d]!);
      });
      for (let m = 0; m < dModel; m++) want.push(dot(y, w.outProj, 0, m * dInner, dInner));
    }
    const got = runReference(mambaBlock, { x: h }, small).out as Tensor;
    expectClose(got.data, want, { atol: 1e-5 });
  });

  it('runs on the backend (tfjs projections; the scan chunked on cpu, on the fused kernels on wasm and webgpu) like the reference', async () => {
    const x = gauss([37, 8], 5);
    for (const backend of ['cpu', 'wasm', 'webgpu'] as const)
      await expectParity(mambaBlock, backend, { x }, { ...small, chunkSize: 8 }, { atol: 1e-5, rtol: 1e-4 });
    await expectParity(mambaBlock, 'cpu', { x }, { ...small, scan: 'sequential' }, { atol: 0 });
  });

  it('is causal, and a batch is independent sequences', async () => {
    const x = gauss([2, 12, 8], 8);
    const r = (await runNode(mambaBlock, { x }, small)).out as Tensor;
    expect(r.shape).toEqual([2, 12, 8]);
    const x0 = f32([12, 8], (x.data as Float32Array).slice(0, 96));
    const r0 = runReference(mambaBlock, { x: x0 }, small).out as Tensor;
    expectClose(r.data.subarray(0, 96), r0.data, { atol: 1e-5, rtol: 1e-4 }, 'first sequence');
    // Changing the last 4 tokens leaves the first 8 outputs unchanged.
    const x1 = f32([12, 8], x0.data.map((v, i) => (i >= 64 ? v + 1 : v)));
    const r1 = runReference(mambaBlock, { x: x1 }, small).out as Tensor;
    expectClose(r1.data.subarray(0, 64), r0.data.subarray(0, 64), { atol: 0 }, 'prefix');
    expect(r1.data[64]).not.toBe(r0.data[64]);
  });

  it('reports a recurrent state that does not grow with L, and linear FLOPs', () => {
    const m = (L: number) => (runReference(mambaBlock, { x: gauss([L, 8], 1) }, { ...small, chunkSize: 8 }).metrics as MetricsValue).values;
    const a = m(8);
    const b = m(32);
    // dInner·(N + K − 1) floats = 16·(4 + 2)·4 bytes
    expect(a.stateBytes).toBe(384);
    expect(b.stateBytes).toBe(384);
    expect(a.flopsPerToken).toBeCloseTo(b.flopsPerToken as number, 6);
  });

  it('checks the input width and its params', () => {
    expect(() => mambaBlock.infer({ x: tensorShape('float32', [16, 32]) }, parse({ dModel: 64 }))).toThrow(/"x" has width 32 but dModel is 64/);
    expect(() => mambaBlock.infer({ x: tensorShape('float32', [16]) }, parse({}))).toThrow(/"x" expects/);
    expect(() => parse({ dtMin: 0.5, dtMax: 0.1 })).toThrow(/dtMin/);
  });
});
