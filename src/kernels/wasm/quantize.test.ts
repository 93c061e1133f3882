// The wasm group quantizer: the quantize node's group variant on wasm runs on it (a pass-through mock
// counts the calls, so a silent fallback to the tfjs composition fails) and equals the plain-TS
// reference bit for bit; in KIVI's layouts (with KIVI's float64 arithmetic) it gives the host
// quantizer's packed codes, scales and values bit for bit, and the kv-cache kivi variant on wasm runs on it.
// Both on 1, 2 and 3 pool threads (code words shared by groups that different threads run).
// The committed quantize.wasm is what scripts/build-wasm.sh builds from quantize.c.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { fillGaussian } from '../../nodes/common/random.js';
import { kvCache } from '../../nodes/kv-cache/index.js';
import { kiviQuantizeWasm, kiviSplit, quantizeGroups } from '../../nodes/kv-cache/kivi.js';
import { quantize } from '../../nodes/quantize/index.js';
import { expectClose, runReference, testContext } from '../../nodes/testing.js';
import { closeKernelPool, setWasmKernelThreads } from './pool.js';

const calls = vi.hoisted(() => ({ wasm: 0 }));
vi.mock('./quantize.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('./quantize.js')>();
  return { ...m, groupQuantizeWasm: (...a: Parameters<typeof m.groupQuantizeWasm>) => (calls.wasm++, m.groupQuantizeWasm(...a)) };
});

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed, ...shape).map((x) => x * scale));

async function run(def: typeof quantize | typeof kvCache, ins: Record<string, unknown>, params: Record<string, unknown>) {
  const ctx = await testContext('wasm');
  const reasons: string[] = [];
  ctx.fallback = (r) => reasons.push(r);
  const got = (await def.run(ctx, ins as never, def.params.parse(params) as never)) as Record<string, any>;
  expect(reasons, 'fallbacks').toEqual([]);
  return { got, want: runReference(def, ins as never, params) as Record<string, any> };
}

afterEach(() => setWasmKernelThreads(undefined));
afterAll(closeKernelPool);

describe('quantize/group on the wasm kernel', () => {
  const x = gauss([3, 70, 5], 1, 2);
  for (const bits of [2, 3, 4, 8])
    it(`${bits}-bit, asymmetric and symmetric, a middle axis with a partial group; the last axis`, async () => {
      for (const params of [
        { variant: 'group', bits, groupSize: 32, axis: 1, symmetric: false },
        { variant: 'group', bits, groupSize: 32, axis: 1, symmetric: true },
        { variant: 'group', bits, groupSize: 64, axis: -1 },
      ]) {
        const before = calls.wasm;
        const { got, want } = await run(quantize, { in: x }, params);
        for (const port of ['out', 'codes', 'scales']) {
          expect((got[port] as Tensor).shape).toEqual((want[port] as Tensor).shape);
          expectClose((got[port] as Tensor).data, (want[port] as Tensor).data, { atol: 0 }, `${port} ${JSON.stringify(params)}`);
        }
        expect(calls.wasm - before, 'wasm kernel calls').toBe(1);
      }
    });

  it('the reference bit for bit on 1, 2 and 3 threads: 3-bit codes of rows that interleave (inner axis 7), many runs of groups', async () => {
    const big = gauss([4, 1000, 7], 6, 3);
    for (const threads of [1, 2, 3]) {
      setWasmKernelThreads(threads);
      for (const params of [
        { variant: 'group', bits: 3, groupSize: 32, axis: 1, symmetric: false },
        { variant: 'group', bits: 4, groupSize: 64, axis: 1, symmetric: true },
      ]) {
        const { got, want } = await run(quantize, { in: big }, params);
        for (const port of ['out', 'codes', 'scales'])
          expectClose((got[port] as Tensor).data, (want[port] as Tensor).data, { atol: 0 }, `${port} ${JSON.stringify(params)} on ${threads} thread(s)`);
      }
    }
  });
});

describe('KIVI on the wasm kernel', () => {
  it('the host quantizer\'s codes, scales and values, in both layouts, on 1, 2 and 3 threads', async () => {
    const c = { Hkv: 2, T: 75, D: 12, Dv: 20, H: 2, bits: 2, groupSize: 8, residualTokens: 16 };
    const k = gauss([2, 75, 12], 2);
    const v = gauss([2, 75, 20], 3);
    const split = kiviSplit(c.T, c.residualTokens);
    const G = c.groupSize;
    const wk = quantizeGroups(k, c.bits, (emit) => {
      for (let h = 0; h < c.Hkv; h++) for (let t0 = 0; t0 < split.keyQuantized; t0 += G) for (let d = 0; d < c.D; d++) emit((h * c.T + t0) * c.D + d, c.D, G);
    });
    const wv = quantizeGroups(v, c.bits, (emit) => {
      for (let h = 0; h < c.Hkv; h++) for (let t = 0; t < split.valueQuantized; t++) for (let c0 = 0; c0 < c.Dv; c0 += G) emit((h * c.T + t) * c.Dv + c0, 1, Math.min(G, c.Dv - c0));
    });
    for (const threads of [1, 2, 3]) {
      setWasmKernelThreads(threads);
      const reasons: string[] = [];
      const got = await kiviQuantizeWasm(k, v, c, c, undefined, (why) => reasons.push(why));
      expect(reasons, 'fallbacks').toEqual([]);
      for (const [name, g, w] of [['keys', got.kq, wk], ['values', got.vq, wv]] as const) {
        expect(Array.from(g.packed), `${name}: packed codes, ${threads} thread(s)`).toEqual(Array.from(w.packed));
        const pairs = Float32Array.from({ length: 2 * w.scales.length }, (_, i) => (i % 2 ? w.mins : w.scales)[i >> 1]!);
        expectClose(g.scales, pairs, { atol: 0 }, `${name}: (scale, min)`);
        expectClose(g.out.data, w.out.data, { atol: 0 }, `${name}: dequantized`);
        expect(g.bytes).toBe(w.bytes);
      }
    }
  });

  it('the kv-cache kivi variant on wasm runs on it (keys and values: two calls)', async () => {
    const before = calls.wasm;
    const ins = { k: gauss([2, 75, 12], 4), v: gauss([2, 75, 20], 5) };
    const { got, want } = await run(kvCache, ins, { variant: 'kivi', bits: 4, groupSize: 8, residualTokens: 16, prefillTokens: 40 });
    expectClose((got.k as Tensor).data, (want.k as Tensor).data, { atol: 0 }, 'k');
    expectClose((got.v as Tensor).data, (want.v as Tensor).data, { atol: 0 }, 'v');
    expect(got.metrics.values).toEqual(want.metrics.values);
    expect(calls.wasm - before).toBe(2);
  });
});

describe('the committed quantize.wasm', () => {
  it('is what scripts/build-wasm.sh builds from quantize.c (needs clang and lld)', () => {
    const has = spawnSync('sh', ['-c', 'command -v clang || command -v clang-14']).status === 0 && spawnSync('sh', ['-c', 'command -v wasm-ld || command -v wasm-ld-14']).status === 0;
    if (!has) throw new Error('clang and wasm-ld are needed to check the committed quantize.wasm: apt-get install clang lld (Debian), then re-run');
    const out = mkdtempSync(join(tmpdir(), 'ctxlab-wasm-'));
    execFileSync('bash', ['scripts/build-wasm.sh', out], { stdio: 'pipe' });
    const dir = 'src/kernels/wasm';
    expect(readFileSync(join(out, 'quantize.wasm')).equals(readFileSync(join(dir, 'quantize.wasm'))), 'quantize.wasm is stale: run scripts/build-wasm.sh').toBe(true);
    expect(readFileSync(join(out, 'quantize.wasm.ts'), 'utf8')).toBe(readFileSync(join(dir, 'quantize.wasm.ts'), 'utf8'));
  });
});
