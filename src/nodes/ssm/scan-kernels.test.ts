// The scan "on the backend" runs on the fused kernels — the wasm SIMD kernel on wasm, the WGSL kernel
// on webgpu (Node: Dawn on lavapipe) — counted through pass-through mocks so that a silent fallback
// to the chunked tfjs scan fails, and equals the plain-TS sequential reference on independent random
// problems of odd sizes. Without a WebGPU adapter the webgpu tests fail with the reason; they never skip.
import { describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian, rng } from '../common/random.js';
import { expectClose, runReference, testContext } from '../testing.js';
import { mambaBlock } from './mamba-block.js';
import { scanKernelHooks } from './scan-kernels.js';
import { selectiveScan } from './selective-scan.js';

const calls = vi.hoisted(() => ({ wasm: 0, wgsl: 0, chunked: 0 }));
vi.mock('../../kernels/wasm/scan.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/wasm/scan.js')>();
  return { ...m, selectiveScanWasm: (...a: Parameters<typeof m.selectiveScanWasm>) => (calls.wasm++, m.selectiveScanWasm(...a)) };
});
vi.mock('../../kernels/webgpu/scan.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/webgpu/scan.js')>();
  return { ...m, selectiveScanWebGPU: (...a: Parameters<typeof m.selectiveScanWebGPU>) => (calls.wgsl++, m.selectiveScanWebGPU(...a)) };
});
vi.mock('./scan.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('./scan.js')>();
  return { ...m, selectiveScanChunked: (...a: Parameters<typeof m.selectiveScanChunked>) => (calls.chunked++, m.selectiveScanChunked(...a)) };
});

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed, ...shape).map((x) => x * scale));
const uniform = (shape: number[], seed: number, lo: number, hi: number) => {
  const r = rng(seed, ...shape);
  return f32(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()));
};

function problem(o: { batch?: number; Dm: number; L: number; N: number; G?: number; seed: number }, opt = { D: true, z: true, bias: true }) {
  const lead = o.batch ? [o.batch] : [];
  const bc = o.G ? [...lead, o.G, o.N, o.L] : [...lead, o.N, o.L];
  return {
    u: gauss([...lead, o.Dm, o.L], o.seed),
    delta: gauss([...lead, o.Dm, o.L], o.seed + 1, 1.5),
    A: f32([o.Dm, o.N], uniform([o.Dm, o.N], o.seed + 2, 0.05, 4).data.map((x) => -x)),
    B: gauss(bc, o.seed + 3),
    C: gauss(bc, o.seed + 4),
    ...(opt.D ? { D: gauss([o.Dm], o.seed + 5) } : {}),
    ...(opt.z ? { z: gauss([...lead, o.Dm, o.L], o.seed + 6, 2) } : {}),
    ...(opt.bias ? { deltaBias: uniform([o.Dm], o.seed + 7, -3, 1) } : {}),
  };
}

/** Runs on `backend`, compares with the reference, and checks which implementation ran how often. */
async function check(def: typeof selectiveScan | typeof mambaBlock, backend: 'wasm' | 'webgpu', ins: Record<string, unknown>, params: Record<string, unknown>, want: Partial<typeof calls>) {
  const ctx = await testContext(backend);
  const reasons: string[] = [];
  ctx.fallback = (r) => reasons.push(r);
  const gpu: ({ ms: number } | { unavailable: string })[] = [];
  ctx.gpuTime = (t) => gpu.push(t);
  const before = { ...calls };
  const p = def.params.parse(params);
  const tensors = ctx.tf.memory().numTensors;
  const got = (await def.run(ctx, ins as never, p as never)) as Record<string, Tensor>;
  expect(ctx.tf.memory().numTensors, 'tfjs tensors left behind').toBe(tensors);
  const ref = runReference(def, ins as never, params) as Record<string, Tensor>;
  for (const port of Object.keys(ref)) {
    if (ref[port]!.kind !== 'tensor') continue;
    expect(got[port]!.shape).toEqual(ref[port]!.shape);
    expectClose(got[port]!.data, ref[port]!.data, { atol: 2e-5, rtol: 2e-5 }, `${def.type}.${port} on ${backend}`);
  }
  expect(reasons, 'fallbacks').toEqual([]);
  for (const k of ['wasm', 'wgsl', 'chunked'] as const) expect(calls[k] - before[k], `${k} calls`).toBe(want[k] ?? 0);
  // Each WGSL call reports its passes' GPU time (lavapipe has timestamp queries); nothing else does.
  expect(gpu).toHaveLength(want.wgsl ?? 0);
  for (const t of gpu) expect('ms' in t && t.ms > 0, JSON.stringify(t)).toBe(true);
}

const cases: [string, Parameters<typeof problem>[0], { D: boolean; z: boolean; bias: boolean }?][] = [
  ['Dm 10, N 5, G 2, L 77, batch 2, every input', { batch: 2, Dm: 10, L: 77, N: 5, G: 2, seed: 11 }],
  ['Dm 3, N 70 (> 64 states: two per invocation), L 40', { Dm: 3, L: 40, N: 70, seed: 21 }],
  ['Dm 33, N 16, L 300 (several position tiles), no D, z or bias', { Dm: 33, L: 300, N: 16, seed: 31 }, { D: false, z: false, bias: false }],
  ['Dm 6, N 3, G 3, L 1', { Dm: 6, L: 1, N: 3, G: 3, seed: 41 }],
];

describe('ssm.selective-scan on the fused kernels', () => {
  for (const backend of ['wasm', 'webgpu'] as const)
    for (const [name, dims, opt] of cases)
      it(`${backend}: ${name}`, async () => {
        const ins = problem(dims, opt);
        const batch = dims.batch ?? 1;
        // wasm: one kernel call per batch element; webgpu: one WGSL call per batch element.
        await check(selectiveScan, backend, ins, { deltaSoftplus: true }, backend === 'wasm' ? { wasm: batch } : { wgsl: batch });
      });

  it('cpu keeps the chunked tfjs scan (the reference backend)', async () => {
    await check(selectiveScan, 'cpu' as never, problem({ Dm: 4, L: 20, N: 4, seed: 51 }), { deltaSoftplus: true, chunkSize: 8 }, { chunked: 1 });
  });

  it('webgpu: a shader that does not compile falls back to the chunked tfjs scan, with the reason', async () => {
    const ctx = await testContext('webgpu');
    const reasons: string[] = [];
    ctx.fallback = (r) => reasons.push(r);
    const ins = problem({ Dm: 4, L: 20, N: 4, seed: 61 });
    const p = selectiveScan.params.parse({ deltaSoftplus: true, chunkSize: 8 });
    const before = { ...calls };
    scanKernelHooks.shaderOverride = 'this is not WGSL';
    try {
      const got = (await selectiveScan.run(ctx, ins as never, p)) as { y: Tensor };
      expectClose(got.y.data, (runReference(selectiveScan, ins, p).y as Tensor).data, { atol: 2e-5, rtol: 2e-5 });
    } finally {
      scanKernelHooks.shaderOverride = undefined;
    }
    expect(calls.chunked - before.chunked).toBe(1);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^WGSL selective scan → chunked tfjs scan: the WGSL selective-scan kernel does not compile on this adapter: line \d+/);
  });

  for (const backend of ['wasm', 'webgpu'] as const)
    it(`${backend}: cancel lands inside the kernel (its tick calls checkCancelled) and leaves no tensor behind`, async () => {
      const ctx = await testContext(backend);
      const ins = problem({ Dm: 8, L: 50, N: 4, seed: 71 });
      const p = selectiveScan.params.parse({ deltaSoftplus: true });
      await selectiveScan.run(ctx, ins as never, p); // warm: compiled pipelines and pooled buffers
      const tensors = ctx.tf.memory().numTensors;
      let n = 0;
      ctx.checkCancelled = () => {
        if (++n === 2) throw new Error('cancelled');
      };
      await expect(selectiveScan.run(ctx, ins as never, p)).rejects.toThrow('cancelled');
      expect(n).toBe(2);
      expect(ctx.tf.memory().numTensors).toBe(tensors);
    });
});

describe('ssm.mamba-block on the fused scan kernels', () => {
  const params = { dModel: 12, dState: 6, dConv: 3, expand: 2, seed: 3 };
  const x = gauss([2, 37, 12], 81);
  it('wasm: the scan runs on the SIMD kernel', async () => {
    await check(mambaBlock, 'wasm', { x }, params, { wasm: 2 });
  });
  it('webgpu: the scan runs on the WGSL kernel', async () => {
    await check(mambaBlock, 'webgpu', { x }, params, { wgsl: 2 });
  });
});
