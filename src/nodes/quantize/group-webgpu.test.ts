// quantize/group on webgpu (Node: Dawn on lavapipe) runs on the WGSL group-quantize kernel — counted
// through a pass-through mock so a silent fallback to the tfjs composition fails — and equals the
// plain-TS reference exactly (codes, scales, dequantized values): lavapipe divides exactly; WGSL
// allows 2.5 ulp, so on a hardware GPU a value on a rounding boundary may move to the next code.
import { describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, runReference, testContext } from '../testing.js';
import { quantizeKernelHooks } from '../../kernels/webgpu/quantize.js';
import { quantize } from './index.js';

const calls = vi.hoisted(() => ({ wgsl: 0 }));
vi.mock('../../kernels/webgpu/quantize.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/webgpu/quantize.js')>();
  return { ...m, groupQuantizeWebGPU: (...a: Parameters<typeof m.groupQuantizeWebGPU>) => (calls.wgsl++, m.groupQuantizeWebGPU(...a)) };
});

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed, ...shape).map((x) => x * scale));

async function onWgsl(x: Tensor, params: Record<string, unknown>) {
  const ctx = await testContext('webgpu');
  const reasons: string[] = [];
  ctx.fallback = (r) => reasons.push(r);
  const gpu: ({ ms: number } | { unavailable: string })[] = [];
  ctx.gpuTime = (t) => gpu.push(t);
  const before = calls.wgsl;
  const p = quantize.params.parse(params);
  const tensors = ctx.tf.memory().numTensors;
  const got = (await quantize.run(ctx, { in: x } as never, p)) as Record<string, Tensor>;
  expect(ctx.tf.memory().numTensors, 'tfjs tensors left behind').toBe(tensors);
  const want = runReference(quantize, { in: x }, params) as Record<string, Tensor>;
  for (const port of ['out', 'codes', 'scales']) {
    expect(got[port]!.shape, port).toEqual(want[port]!.shape);
    expect(got[port]!.dtype, port).toBe(want[port]!.dtype);
    expectClose(got[port]!.data, want[port]!.data, { atol: 0 }, `${port} (${JSON.stringify(params)})`);
  }
  expect(reasons, 'fallbacks').toEqual([]);
  expect(calls.wgsl - before, 'WGSL kernel calls').toBe(1);
  // The kernel's GPU time from timestamp queries (lavapipe has them).
  expect(gpu).toHaveLength(1);
  expect('ms' in gpu[0]! && gpu[0].ms > 0, JSON.stringify(gpu[0])).toBe(true);
}

describe('quantize/group on the WGSL kernel (webgpu)', () => {
  it('the webgpu backend starts (else: the reason, not a skip)', async () => {
    await testContext('webgpu');
  });

  // [3, 70, 5]: groups of 32 along axis 1 leave a partial group of 6; 3-bit words straddle groups.
  const x = gauss([3, 70, 5], 1, 2);
  for (const bits of [2, 3, 4, 8])
    it(`${bits}-bit, asymmetric and symmetric, along a middle axis with a partial group`, async () => {
      for (const symmetric of [false, true]) await onWgsl(x, { variant: 'group', bits, groupSize: 32, axis: 1, symmetric });
    });

  it('the last axis, groups of 64 and 128 (a row shorter than a group)', async () => {
    const y = gauss([7, 100], 2);
    await onWgsl(y, { variant: 'group', bits: 4, groupSize: 64, axis: -1 });
    await onWgsl(y, { variant: 'group', bits: 3, groupSize: 128, axis: 0 });
  });

  it('constant groups (scale 0) and exact grid values', async () => {
    const c = f32([2, 40], Float32Array.from({ length: 80 }, (_, i) => (i < 40 ? 1.5 : (i % 16) - 8)));
    await onWgsl(c, { variant: 'group', bits: 4, groupSize: 32, axis: -1 });
    await onWgsl(c, { variant: 'group', bits: 4, groupSize: 32, axis: -1, symmetric: true });
  });

  it('a shader that does not compile falls back to the tfjs composition, with the reason', async () => {
    const ctx = await testContext('webgpu');
    const reasons: string[] = [];
    ctx.fallback = (r) => reasons.push(r);
    const params = { variant: 'group', bits: 4, groupSize: 32 };
    quantizeKernelHooks.shaderOverride = 'this is not WGSL';
    try {
      const got = (await quantize.run(ctx, { in: x } as never, quantize.params.parse(params))) as Record<string, Tensor>;
      expectClose(got.out!.data, (runReference(quantize, { in: x }, params).out as Tensor).data, { atol: 0 });
    } finally {
      quantizeKernelHooks.shaderOverride = undefined;
    }
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^WGSL group quantize → tfjs group quantize: the WGSL group-quantize kernel does not compile on this adapter: line \d+/);
  });
});
