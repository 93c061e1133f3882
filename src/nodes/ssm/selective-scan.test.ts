import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian, rng } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { selectiveScan } from './selective-scan.js';

const ones = (shape: number[]) => f32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1));
const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed).map((x) => x * scale));
const uniform = (shape: number[], seed: number, lo: number, hi: number) => {
  const r = rng(seed);
  return f32(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()));
};

/** A random problem: A < 0 as Mamba's −exp(A_log), Δ around softplus's useful range. */
function problem(opts: { batch?: number; Dm: number; L: number; N: number; G?: number; seed: number }) {
  const { Dm, L, N, seed } = opts;
  const lead = opts.batch ? [opts.batch] : [];
  const bc = opts.G ? [...lead, opts.G, N, L] : [...lead, N, L];
  return {
    u: gauss([...lead, Dm, L], seed),
    delta: gauss([...lead, Dm, L], seed + 1, 0.5),
    A: f32([Dm, N], uniform([Dm, N], seed + 2, 0.5, 4).data.map((x) => -x)),
    B: gauss(bc, seed + 3),
    C: gauss(bc, seed + 4),
    D: gauss([Dm], seed + 5),
    z: gauss([...lead, Dm, L], seed + 6),
    deltaBias: uniform([Dm], seed + 7, -4, -1),
  };
}

describe('ssm.selective-scan', () => {
  it('matches the reference fact: A = −1, Δ = B = C = u = 1, D = 0 gives y = 1, 1.3678794, 1.5032147', async () => {
    const ins = { u: ones([1, 3]), delta: ones([1, 3]), A: f32([1, 1], [-1]), B: ones([1, 3]), C: ones([1, 3]), D: f32([1], [0]) };
    const want = [1, 1.3678794, 1.5032147];
    expectClose((runReference(selectiveScan, ins).y as Tensor).data, want, { atol: 1e-7 }, 'sequential');
    const got = await runNode(selectiveScan, ins, { scan: 'chunked', chunkSize: 2 });
    expectClose((got.y as Tensor).data, want, { atol: 1e-6 }, 'chunked');
    expectClose((got.state as Tensor).data, [1.5032147], { atol: 1e-6 }, 'last state');
  });

  it('applies deltaBias, softplus, D and the silu(z) gate as selective_scan_ref does (hand-computed)', () => {
    // Δ = softplus(0 + ln(e − 1)) = 1 at every step; A = −ln 2 → decay ½; B = 2, C = 3, u = 1, D = 0.5.
    // x = 2, 3, 3.5 → y = 3x + 0.5 = 6.5, 9.5, 11; gate silu(z): z = 0 → 0, z = 1 → 1/(1+e^−1), z = −1 → −1/(1+e).
    const ins = {
      u: ones([1, 3]), delta: f32([1, 3], [0, 0, 0]), A: f32([1, 1], [-Math.LN2]),
      B: f32([1, 3], [2, 2, 2]), C: f32([1, 3], [3, 3, 3]), D: f32([1], [0.5]),
      z: f32([1, 3], [0, 1, -1]), deltaBias: f32([1], [Math.log(Math.E - 1)]),
    };
    const r = runReference(selectiveScan, ins, { deltaSoftplus: true });
    expectClose((r.y as Tensor).data, [0, 9.5 / (1 + Math.exp(-1)), -11 / (1 + Math.E)], { atol: 1e-5 });
    expectClose((r.state as Tensor).data, [3.5], { atol: 1e-6 });
  });

  it('gives each group of channels its own B and C (hand-computed, G = 2)', () => {
    // Dm = 2, N = 1, L = 2, A = 0 (no decay), Δ = 1: x_l = Σ B·u; channel 0 reads group 0, channel 1 group 1.
    const ins = {
      u: f32([2, 2], [1, 1, 1, 1]), delta: ones([2, 2]), A: f32([2, 1], [0, 0]),
      B: f32([2, 1, 2], [1, 2, 10, 20]), C: f32([2, 1, 2], [1, 1, 0.5, 2]),
    };
    const r = runReference(selectiveScan, ins);
    expectClose((r.y as Tensor).data, [1, 3, 5, 60], { atol: 1e-6 });
  });

  // The chunked tfjs scan on cpu; the fused kernels on wasm and webgpu (scan-kernels.test.ts checks which ran).
  it('the scan on the backend agrees with the sequential scan to 1e-5 on random inputs (cpu chunked, wasm and webgpu kernels)', async () => {
    const ins = problem({ Dm: 8, L: 77, N: 4, seed: 1 });
    for (const chunkSize of [1, 16, 64, 128])
      await expectParity(selectiveScan, 'cpu', ins, { deltaSoftplus: true, chunkSize }, { atol: 1e-5, rtol: 1e-5 });
    for (const backend of ['wasm', 'webgpu'] as const)
      await expectParity(selectiveScan, backend, ins, { deltaSoftplus: true }, { atol: 1e-5, rtol: 1e-5 });
  });

  it('handles a batch with grouped B/C, and a batch of one like no batch', async () => {
    const ins = problem({ batch: 2, Dm: 6, L: 40, N: 3, G: 3, seed: 5 });
    await expectParity(selectiveScan, 'cpu', ins, { deltaSoftplus: true, chunkSize: 16 }, { atol: 1e-5, rtol: 1e-5 });
    const one = problem({ Dm: 4, L: 9, N: 2, seed: 9 });
    const batched = Object.fromEntries(Object.entries(one).map(([k, t]) => [k, ['A', 'D', 'deltaBias'].includes(k) ? t : f32([1, ...t.shape], t.data as Float32Array)]));
    const a = runReference(selectiveScan, one, { deltaSoftplus: true });
    const b = runReference(selectiveScan, batched, { deltaSoftplus: true });
    expect((b.y as Tensor).shape).toEqual([1, 4, 9]);
    expectClose((b.y as Tensor).data, (a.y as Tensor).data, { atol: 0 });
  });

  it('names the port whose shape is wrong', () => {
    const s = (shape: number[]) => tensorShape('float32', shape);
    const ok = { u: s([4, 8]), delta: s([4, 8]), A: s([4, 2]), B: s([2, 8]), C: s([2, 8]) };
    expect(selectiveScan.infer(ok as never, selectiveScan.params.parse({}))).toMatchObject({ y: { shape: [4, 8] }, state: { shape: [4, 2] } });
    const bad = (patch: object) => () => selectiveScan.infer({ ...ok, ...patch } as never, selectiveScan.params.parse({}));
    expect(bad({ delta: s([4, 9]) })).toThrow(/delta/);
    expect(bad({ B: s([3, 8]) })).toThrow(/"C"|"B"/);
    expect(bad({ B: s([3, 2, 8]), C: s([3, 2, 8]) })).toThrow(/groups of B\/C: 3 must divide 4/);
    expect(bad({ D: s([5]) })).toThrow(/"D"/);
  });
});
