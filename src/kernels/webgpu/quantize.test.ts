// The WGSL group-quantize kernel in KIVI's layouts (keys per channel over token groups, values per
// token over channel groups, residual tokens copied) against KIVI's host quantizer — the same packed
// codes word for word, scales and mins (to 1 ulp), dequantized values — and the kv-cache node's kivi variant on
// webgpu running on it (a pass-through mock counts the calls, so a silent fallback to the host
// quantizer fails) and equal to the reference. Without a WebGPU adapter these fail with the reason.
import { describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian } from '../../nodes/common/random.js';
import { kvCache } from '../../nodes/kv-cache/index.js';
import { kiviQuantizeWebGPU, kiviSplit, quantizeGroups } from '../../nodes/kv-cache/kivi.js';
import { expectClose, runReference, testContext } from '../../nodes/testing.js';
import { quantizeKernelHooks } from './quantize.js';

const calls = vi.hoisted(() => ({ wgsl: 0 }));
vi.mock('./quantize.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('./quantize.js')>();
  return { ...m, groupQuantizeWebGPU: (...a: Parameters<typeof m.groupQuantizeWebGPU>) => (calls.wgsl++, m.groupQuantizeWebGPU(...a)) };
});

const rand = (H: number, T: number, D: number, seed: number) => f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, H, T, D).map((x, i) => (i % 7 === 0 ? 4 * x : x)));

/** KIVI's host quantizer over the same groups as kivi.ts's simulate. */
function host(k: Tensor, v: Tensor, s: { Hkv: number; T: number; D: number; Dv: number }, p: { bits: number; groupSize: number; residualTokens: number }) {
  const split = kiviSplit(s.T, p.residualTokens);
  const G = p.groupSize;
  const kq = quantizeGroups(k, p.bits, (emit) => {
    for (let h = 0; h < s.Hkv; h++) for (let t0 = 0; t0 < split.keyQuantized; t0 += G) for (let d = 0; d < s.D; d++) emit((h * s.T + t0) * s.D + d, s.D, G);
  });
  const vq = quantizeGroups(v, p.bits, (emit) => {
    for (let h = 0; h < s.Hkv; h++)
      for (let t = 0; t < split.valueQuantized; t++) for (let c0 = 0; c0 < s.Dv; c0 += G) emit((h * s.T + t) * s.Dv + c0, 1, Math.min(G, s.Dv - c0));
  });
  return { kq, vq };
}

const interleave = (a: Float32Array, b: Float32Array) => Float32Array.from({ length: 2 * a.length }, (_, i) => (i % 2 ? b : a)[i >> 1]!);

describe('WGSL group quantize in KIVI layouts', () => {
  // T = 75 with 16 residual tokens and groups of 8: keys 64 quantized + 11 residual, values 59 + 16;
  // Dv = 20: value groups of 8, 8, 4.
  const cases = [
    { Hkv: 2, T: 75, D: 12, Dv: 20, bits: 2, groupSize: 8, residualTokens: 16 },
    { Hkv: 3, T: 40, D: 5, Dv: 7, bits: 4, groupSize: 4, residualTokens: 8 },
    { Hkv: 1, T: 10, D: 4, Dv: 4, bits: 4, groupSize: 4, residualTokens: 16 }, // nothing quantized yet
  ];
  for (const c of cases)
    it(`${c.bits}-bit, Hkv ${c.Hkv}, T ${c.T}, D ${c.D}, Dv ${c.Dv}, groups of ${c.groupSize}, ${c.residualTokens} residual`, async () => {
      const { tf } = await testContext('webgpu');
      const k = rand(c.Hkv, c.T, c.D, 1);
      const v = rand(c.Hkv, c.T, c.Dv, 2);
      const want = host(k, v, c, c);
      const got = await kiviQuantizeWebGPU(tf, k, v, c, { ...c, H: c.Hkv });
      for (const [name, g, w] of [['keys', got.kq, want.kq], ['values', got.vq, want.vq]] as const) {
        expect(Array.from(g.packed), `${name}: packed codes`).toEqual(Array.from(w.packed));
        // KIVI's host divides hi − lo in float64 and rounds once; the kernel rounds hi − lo to f32 first: ≤ 1 ulp apart.
        expectClose(g.scales, interleave(w.scales, w.mins), { atol: 0, rtol: 1.2e-7 }, `${name}: (scale, min) per group`);
        expectClose(g.out.data, w.out.data, { atol: 1e-6, rtol: 1e-6 }, `${name}: dequantized`);
        expect(g.bytes, `${name}: bytes`).toBe(w.bytes);
      }
    });
});

describe('kv-cache kivi on webgpu', () => {
  it('runs on the WGSL kernel (keys and values: two calls) and equals the reference', async () => {
    const ctx = await testContext('webgpu');
    const reasons: string[] = [];
    ctx.fallback = (r) => reasons.push(r);
    const gpu: ({ ms: number } | { unavailable: string })[] = [];
    ctx.gpuTime = (t) => gpu.push(t);
    const ins = { k: rand(2, 75, 12, 3), v: rand(2, 75, 20, 4) };
    const params = { variant: 'kivi', bits: 2, groupSize: 8, residualTokens: 16, prefillTokens: 40 };
    const before = calls.wgsl;
    const tensors = ctx.tf.memory().numTensors;
    const got = (await kvCache.run(ctx, ins as never, kvCache.params.parse(params))) as Record<string, any>;
    expect(ctx.tf.memory().numTensors, 'tfjs tensors left behind').toBe(tensors);
    const want = runReference(kvCache, ins, params) as Record<string, any>;
    expectClose((got.k as Tensor).data, (want.k as Tensor).data, { atol: 1e-6, rtol: 1e-6 }, 'k');
    expectClose((got.v as Tensor).data, (want.v as Tensor).data, { atol: 1e-6, rtol: 1e-6 }, 'v');
    expect(got.metrics.values.finalBytes).toBe(want.metrics.values.finalBytes);
    expect(got.metrics.values.keyMaxAbs).toBeCloseTo(want.metrics.values.keyMaxAbs, 6);
    expect(reasons).toEqual([]);
    expect(calls.wgsl - before).toBe(2);
    // Keys' and values' passes, summed into one report.
    expect(gpu).toHaveLength(1);
    expect('ms' in gpu[0]! && gpu[0].ms > 0, JSON.stringify(gpu[0])).toBe(true);
  });

  it('a shader that does not compile: the host quantizer runs, with the reason', async () => {
    const ctx = await testContext('webgpu');
    const reasons: string[] = [];
    ctx.fallback = (r) => reasons.push(r);
    const ins = { k: rand(1, 20, 4, 5), v: rand(1, 20, 4, 6) };
    const params = { variant: 'kivi', bits: 2, groupSize: 4, residualTokens: 4, prefillTokens: 8 };
    quantizeKernelHooks.shaderOverride = 'not WGSL';
    try {
      const got = (await kvCache.run(ctx, ins as never, kvCache.params.parse(params))) as Record<string, any>;
      expectClose((got.k as Tensor).data, ((runReference(kvCache, ins, params) as Record<string, any>).k as Tensor).data, { atol: 0 }, 'k (host quantizer)');
    } finally {
      quantizeKernelHooks.shaderOverride = undefined;
    }
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^WGSL KIVI quantize → host KIVI quantize: the WGSL group-quantize kernel does not compile on this adapter: line \d+/);
  });
});
