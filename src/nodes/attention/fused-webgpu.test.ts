// On the webgpu backend (Node: Dawn on lavapipe) the exact variants run on the WGSL fused kernel —
// counted through a pass-through mock, with the wasm kernel's calls counted too so a silent fallback
// fails — and equal the plain-TS reference to 1e-5. Without a WebGPU adapter these tests fail with
// the reason (testContext refuses a backend that did not start); they never skip.
import { describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, runNode, runReference, testContext } from '../testing.js';
import { fusedKernelHooks } from './fused-backends.js';
import { attention } from './index.js';
import { balanced, dealInto, fusedAttentionWebGPU } from '../../kernels/webgpu/attention.js';
import { planJobs } from '../../kernels/attention-spec.js';
import { causalBand } from './fused.js';

/** Plain-loop softmax attention (GQA, causal on absolute positions, optional window): out [H, Tq, Dv] and natural lse [H, Tq]. */
function plainAttention(s: { q: Float32Array; k: Float32Array; v: Float32Array; H: number; Hkv: number; Tq: number; Tk: number; D: number; Dv: number; scale: number; qpos: Int32Array; window: number }) {
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  const lse = new Float32Array(s.H * s.Tq);
  for (let h = 0; h < s.H; h++)
    for (let r = 0; r < s.Tq; r++) {
      const g = Math.floor(h / (s.H / s.Hkv));
      const i = s.qpos[r]!;
      const sc: [number, number][] = [];
      for (let j = 0; j < s.Tk; j++) {
        if (j > i || i - j >= s.window) continue;
        let x = 0;
        for (let d = 0; d < s.D; d++) x += s.q[(h * s.Tq + r) * s.D + d]! * s.k[(g * s.Tk + j) * s.D + d]!;
        sc.push([j, x * s.scale]);
      }
      const m = Math.max(...sc.map(([, x]) => x));
      const z = sc.reduce((a, [, x]) => a + Math.exp(x - m), 0);
      lse[h * s.Tq + r] = sc.length ? m + Math.log(z) : -Infinity;
      for (const [j, x] of sc)
        for (let e = 0; e < s.Dv; e++) out[(h * s.Tq + r) * s.Dv + e] += (Math.exp(x - m) / z) * s.v[(g * s.Tk + j) * s.Dv + e]!;
    }
  return { out, lse };
}

const calls = vi.hoisted(() => ({ wgsl: 0, wasm: 0 }));
vi.mock('../../kernels/webgpu/attention.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/webgpu/attention.js')>();
  return { ...m, fusedAttentionWebGPU: (...a: Parameters<typeof m.fusedAttentionWebGPU>) => (calls.wgsl++, m.fusedAttentionWebGPU(...a)) };
});
vi.mock('../../kernels/wasm/attention.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../kernels/wasm/attention.js')>();
  return { ...m, fusedAttention: (...a: Parameters<typeof m.fusedAttention>) => (calls.wasm++, m.fusedAttention(...a)) };
});

const rand = (shape: number[], seed: number): Tensor => f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b)), seed, ...shape));
// T = 150: three 64-key tiles, the last one padded; 4 query heads over 2 kv heads (GQA).
const T = 150;
const q = rand([4, T, 16], 1);
const k = rand([2, T, 16], 2);
const v = rand([2, T, 16], 3);

/** Runs on webgpu, compares with the reference, and checks it was the WGSL kernel `n` times and never wasm. */
async function onWgsl(ins: Record<string, unknown>, params: Record<string, unknown>, n = 1) {
  const before = { ...calls };
  // Only `out` (the probe output would time tfjs-webgpu ops, not the kernel).
  const got = (await runNode(attention, ins as never, params, { backend: 'webgpu', connected: [] })).out as Tensor;
  const want = runReference(attention, ins as never, params).out as Tensor;
  expect(got.shape).toEqual(want.shape);
  expectClose(got.data, want.data, { atol: 1e-5 }, `${params.variant} on webgpu`);
  expect(calls.wgsl - before.wgsl, 'WGSL kernel calls').toBe(n);
  expect(calls.wasm - before.wasm, 'wasm kernel calls (a fallback)').toBe(0);
}

describe('exact attention on the WGSL fused kernel (webgpu)', () => {
  it('the webgpu backend starts (else: the reason, not a skip)', async () => {
    await testContext('webgpu');
  });

  for (const causal of [true, false])
    it(`flash, GQA, multi-tile T, ${causal ? 'causal' : 'non-causal'}`, async () => {
      await onWgsl({ q, k, v }, { variant: 'flash', causal });
    });

  it('fewer queries than keys (decoding rows), head dim 64, Dv 40', async () => {
    const qd = rand([2, 7, 64], 4);
    const kd = rand([1, 300, 64], 5);
    const vd = rand([1, 300, 40], 6);
    await onWgsl({ q: qd, k: kd, v: vd }, { variant: 'flash', causal: true });
  });

  // Head dims whose K/V chunks fill the workgroup memory: 64 → 32-key chunks, 128 → 16-key chunks
  // (several chunks per 64-key tile); a chunk sized past the limit would fall back and fail here.
  for (const D of [64, 128])
    it(`head dim ${D}: K/V chunks sized to the adapter's workgroup memory`, async () => {
      await onWgsl({ q: rand([2, 130, D], 7), k: rand([1, 130, D], 8), v: rand([1, 130, D], 9) }, { variant: 'flash', causal: true });
    });

  const variants: [Record<string, unknown>, number?][] = [
    [{ variant: 'sliding-window', window: 40 }],
    [{ variant: 'longformer', window: 24, globalTokens: 3 }],
    [{ variant: 'bigbird', blockSize: 16, seed: 1 }],
    // Blocks of 128 query rows: each job is cut into workgroups of 64 rows sharing its tile list.
    [{ variant: 'bigbird', blockSize: 128, seed: 2 }],
    [{ variant: 'flash-decoding', numSplits: 3 }],
    [{ variant: 'paged', blockSize: 8 }],
    // One call over every (head, pair) sub-sequence; each row's pairs merged on the device (spec.merge).
    [{ variant: 'dilated', segmentLengths: [16, 64, 150], dilationRates: [1, 2, 4] }],
  ];
  for (const [params] of variants)
    it(`${Object.entries(params).map(([k, v]) => (k === 'variant' ? v : `${k} ${v}`)).join(', ')}; causal and non-causal`, async () => {
      for (const causal of [true, false]) await onWgsl({ q, k, v }, { ...params, causal });
    });

  const biases: [string, BiasValue][] = [
    ['ALiBi', { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25, 0.125, 0.0625] }] }],
    ['streaming (3 sinks, 20 recent) + ALiBi', { kind: 'bias', terms: [{ type: 'streaming', sinkTokens: 3, recentTokens: 20 }, { type: 'alibi', slopes: [0.3] }] }],
    ['windows (40, overlap 10)', { kind: 'bias', terms: [{ type: 'windows', windowSize: 40, overlap: 10 }] }],
    [
      'segments with a see-all segment and a cross-logit',
      { kind: 'bias', terms: [{ type: 'segments', segment: Int32Array.from({ length: T }, (_, i) => (i < 50 ? 0 : i < 110 ? 1 : 2)), seeAll: [2], crossLogit: -0.4 }] },
    ],
  ];
  for (const [name, bias] of biases)
    it(`flash with ${name}, causal and non-causal`, async () => {
      for (const causal of [true, false]) await onWgsl({ q, k, v, bias }, { variant: 'flash', causal });
    });

  it('dilated with ALiBi: one call, each row with the slope of its head (rowSlopes), causal and non-causal', async () => {
    for (const causal of [true, false]) await onWgsl({ q, k, v, bias: biases[0]![1] }, { variant: 'dilated', segmentLengths: [16, 64, 150], dilationRates: [1, 2, 4], causal });
  });

  // Split-K merges on the device (attention-merge.wgsl.ts): 5 splits of a 700-key cache, a window that
  // leaves most splits empty for every row (their parts have lse −∞). Head dims 16 as above: the same
  // compiled shader (a new one takes lavapipe's LLVM up to a minute under load).
  for (const window of [1e9, 90])
    it(`split-K (5 splits) merged on the device equals plain softmax attention, out and lse; window ${window}`, async () => {
      const ctx = await testContext('webgpu');
      const [H, Hkv, Tq, Tk, D, Dv] = [4, 2, 3, 700, 16, 16];
      const qpos = Int32Array.from([5, 650, 699]);
      const spec = {
        q: rand([H, Tq, D], 11).data as Float32Array, k: rand([Hkv, Tk, D], 12).data as Float32Array, v: rand([Hkv, Tk, Dv], 13).data as Float32Array,
        H, Hkv, Tq, Tk, D, Dv, scale: 0.2, qpos, splits: 5,
        bands: [causalBand, ...(window < Tk ? [{ gcol: 0, grow: 0, lo: window - 1, hi: 0 }] : [])],
      };
      const got = await fusedAttentionWebGPU(ctx.tf, spec);
      const want = plainAttention({ ...spec, window });
      expectClose(got.out, want.out, { atol: 1e-5 }, 'merged out');
      expectClose(got.lse, want.lse, { atol: 1e-5 }, 'merged lse');
    });

  it('dealInto deals jobs round-robin into runs that each stay longest first', () => {
    expect(dealInto([9, 8, 7, 6, 5, 4, 3], 3)).toEqual([9, 6, 3, 8, 5, 7, 4]);
    expect(dealInto([3, 2, 1], 1)).toEqual([3, 2, 1]);
  });
  // The real GPU's path (GPU_BLOCKING, jobs dealt into runs of firstTiles, dispatches sized from the
  // peak; CI's adapters are software) and a bench blocking over 16-key chunks: the same numbers.
  for (const opts of [{ adapterKind: 'hardware' as const }, { adapterKind: 'hardware' as const, firstTiles: 3 }, { blocking: { rb: 2, kb: 4, chunk: 16 } }])
    it(`${JSON.stringify(opts)} equals plain softmax attention (split-K, window 90)`, async () => {
      const ctx = await testContext('webgpu');
      const [H, Hkv, Tq, Tk, D, Dv] = [4, 2, 70, 150, 16, 16];
      const qpos = Int32Array.from({ length: Tq }, (_, r) => 2 * r + 9);
      const spec = {
        q: rand([H, Tq, D], 21).data as Float32Array, k: rand([Hkv, Tk, D], 22).data as Float32Array, v: rand([Hkv, Tk, Dv], 23).data as Float32Array,
        H, Hkv, Tq, Tk, D, Dv, scale: 0.25, qpos, splits: 2, bands: [causalBand, { gcol: 0, grow: 0, lo: 89, hi: 0 }],
      };
      const got = await fusedAttentionWebGPU(ctx.tf, spec, opts);
      const want = plainAttention({ ...spec, window: 90 });
      expectClose(got.out, want.out, { atol: 1e-5 }, 'out');
      expectClose(got.lse, want.lse, { atol: 1e-5 }, 'lse');
    });

  // Global rows (rows < 64 see every key, the rest a window of 32): on a real GPU the 64-tile job of
  // the global rows is cut into jobs of at most 32 tiles and merged (balanced); the same numbers as
  // the software schedule, which runs it whole. Non-causal, so the global rows see all 4096 keys.
  it('a plan with a few long jobs is balanced on a real GPU (split and merged), with the same result', async () => {
    const ctx = await testContext('webgpu');
    const [H, Hkv, T, D] = [2, 1, 4096, 16];
    const spec = {
      q: rand([H, T, D], 31).data as Float32Array, k: rand([Hkv, T, D], 32).data as Float32Array, v: rand([Hkv, T, D], 33).data as Float32Array,
      H, Hkv, Tq: T, Tk: T, D, Dv: D, scale: 0.25, qpos: Int32Array.from({ length: T }, (_, r) => r),
      bands: [{ gcol: 0, grow: 64, lo: 31, hi: 0 }],
    };
    const plan = balanced(spec, planJobs(spec));
    expect(plan.direct, 'split').toBe(false);
    expect(Math.max(...plan.jobs.map((j) => j.codes.length))).toBe(32);
    const gpu = await fusedAttentionWebGPU(ctx.tf, spec, { adapterKind: 'hardware', firstTiles: 64 });
    const sw = await fusedAttentionWebGPU(ctx.tf, spec, { adapterKind: 'software' });
    expectClose(gpu.out, sw.out, { atol: 1e-5 }, 'out');
    expectClose(gpu.lse, sw.lse, { atol: 1e-5 }, 'lse');
    // A row of the window sees 32 keys; a global row all of them: its lse is the log-sum-exp of 4096 scores.
    let m = -Infinity;
    const sc = Array.from({ length: T }, (_, j) => {
      let x = 0;
      for (let d = 0; d < D; d++) x += spec.q[d]! * spec.k[j * D + d]!;
      return (m = Math.max(m, x * 0.25)), x * 0.25;
    });
    expect(gpu.lse[0]).toBeCloseTo(m + Math.log(sc.reduce((a, x) => a + Math.exp(x - m), 0)), 4);
  });

  // ReLU attention on the kernel's relu shader (head dims 16: one more compiled shader), against
  // relu.ts's reference: GQA, the padded last tile, and a segment mask so the visible count varies.
  for (const [name, bias] of [['no bias', undefined], biases[3]!] as [string, BiasValue | undefined][])
    it(`relu with ${name}, causal and non-causal`, async () => {
      for (const causal of [true, false]) await onWgsl({ q, k, v, bias }, { variant: 'relu', causal });
    });

  it('relu, split-K (3 splits) merged by counts, ALiBi, rows that see no key: equals a plain loop', async () => {
    const ctx = await testContext('webgpu');
    const [H, Hkv, Tq, Tk, D, Dv] = [4, 2, 20, 150, 16, 16];
    const none = (r: number) => r % 6 === 1;
    const qpos = Int32Array.from({ length: Tq }, (_, r) => 7 * r + 3);
    const slopes = [0.3, 0.2, 0.1, 0.05];
    const spec = {
      q: rand([H, Tq, D], 14).data as Float32Array, k: rand([Hkv, Tk, D], 15).data as Float32Array, v: rand([Hkv, Tk, Dv], 16).data as Float32Array,
      H, Hkv, Tq, Tk, D, Dv, scale: 0.25, qpos, splits: 3, score: 'relu' as const, slopes, bands: [causalBand],
      intervals: [{ qa: Int32Array.from({ length: Tq }, (_, r) => (none(r) ? 1 : 0)), qb: new Int32Array(Tq), ka: new Int32Array(Tk), kb: new Int32Array(Tk) }],
    };
    const got = await fusedAttentionWebGPU(ctx.tf, spec);
    const want = new Float32Array(H * Tq * Dv);
    for (let h = 0; h < H; h++)
      for (let r = 0; r < Tq; r++) {
        const g = Math.floor(h / (H / Hkv));
        const i = qpos[r]!;
        const seen = none(r) ? [] : Array.from({ length: i + 1 }, (_, j) => j);
        for (const j of seen) {
          let x = 0;
          for (let d = 0; d < D; d++) x += spec.q[(h * Tq + r) * D + d]! * spec.k[(g * Tk + j) * D + d]!;
          const w = Math.max(0, x * spec.scale - slopes[h]! * (i - j)) / seen.length;
          for (let e = 0; e < Dv; e++) want[(h * Tq + r) * Dv + e] += w * spec.v[(g * Tk + j) * Dv + e]!;
        }
      }
    expectClose(got.out, want, { atol: 1e-5 }, 'relu out');
    for (let r = 0; r < Tq; r++) expect(got.lse[r], `row ${r}: ln(count)`).toBeCloseTo(none(r) ? -Infinity : Math.log(qpos[r]! + 1), 4);
  });

  it('a shader that does not compile falls back to the wasm kernel, with the reason', async () => {
    const ctx = await testContext('webgpu');
    const reasons: string[] = [];
    ctx.fallback = (r) => reasons.push(r);
    const p = attention.params.parse({ variant: 'flash', causal: true });
    const before = { ...calls };
    fusedKernelHooks.shaderOverride = 'this is not WGSL';
    try {
      const got = (await attention.run(ctx, { q, k, v } as never, p)) as { out: Tensor };
      expectClose(got.out.data, (runReference(attention, { q, k, v }, p).out as Tensor).data, { atol: 1e-5 });
    } finally {
      fusedKernelHooks.shaderOverride = undefined;
    }
    expect(calls.wasm - before.wasm).toBe(1);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^WGSL fused attention → wasm fused attention: the WGSL attention kernel does not compile on this adapter: line \d+/);
  });
});
