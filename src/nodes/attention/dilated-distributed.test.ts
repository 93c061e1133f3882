// LongNet across devices: the same output as the single-device dilated variant (cpu, wasm, webgpu; a
// worker_thread per device and in-process), the all-gather counted in bytes, per-device memory counted
// and measured, and the split refused where LongNet's does not apply.
import { afterAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../engine/tensor.js';
import type { MetricsValue } from '../../engine/values.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { syntheticQkv } from '../sources/synthetic-qkv.js';
import { attention } from './index.js';
import { closeDevices, deviceMetricsSchema } from './devices.js';
import { compile } from '../../engine/compile/compile.js';
import { registry } from '../index.js';

afterAll(() => closeDevices());

const qkv = (heads: number, kvHeads: number, seqLen: number, headDim: number, seed = 7) =>
  syntheticQkv({ heads, kvHeads, seqLen, headDim, seed, sinkStrength: 4, sinkTokens: 4, locality: 2 });
const outOf = (r: Record<string, unknown>) => (r.out as Tensor).data;
const devicesOf = (r: Record<string, unknown>) => (r.devices as MetricsValue).values;

describe('dilated-distributed equals dilated to 1e-5', () => {
  const cases = [
    { name: 'causal MHA, segments within and across devices', H: 2, Hkv: 2, T: 128, D: 8, p: { segmentLengths: [16, 64, 128], dilationRates: [1, 2, 4], devices: 4 } },
    { name: 'non-causal GQA (4 heads, 2 kv), 8 devices, a segment longer than T', H: 4, Hkv: 2, T: 128, D: 8, p: { segmentLengths: [8, 32, 512], dilationRates: [1, 4, 8], devices: 8, causal: false } },
    { name: 'one device', H: 2, Hkv: 1, T: 64, D: 16, p: { segmentLengths: [16, 64], dilationRates: [1, 2], devices: 1 } },
  ];
  for (const backend of ['cpu', 'wasm', 'webgpu'] as const)
    for (const transport of ['auto', 'in-process'] as const)
      for (const c of cases) {
        if (backend === 'webgpu' && transport === 'in-process') continue; // the devices run the same JS there as on cpu
        it(`${backend}, ${transport}: ${c.name}`, async () => {
          const ins = qkv(c.H, c.Hkv, c.T, c.D);
          const { devices: _, ...single } = c.p;
          const dist = await runNode(attention, ins, { variant: 'dilated-distributed', transport, ...c.p }, { backend });
          const one = await runNode(attention, ins, { variant: 'dilated', ...single }, { backend });
          expectClose(outOf(dist), outOf(one), { atol: 1e-5 }, `dilated-distributed vs dilated on ${backend}`);
          await expectParity(attention, backend, ins, { variant: 'dilated-distributed', transport, ...c.p }, { atol: 1e-5 });
          const r = devicesOf(dist);
          expect(r.transport).toBe(transport === 'auto' ? 'worker_threads' : 'in-process');
          expect(r.kernel).toBe(backend === 'wasm' ? 'wasm' : 'js');
          const measured = r.measured as { perDevice: { kernelWasmBytes: number }[] } | undefined;
          if (transport === 'in-process') expect(measured).toBeUndefined();
          else for (const d of measured!.perDevice) expect(d.kernelWasmBytes > 0).toBe(backend === 'wasm');
        });
      }
});

it('fewer queries than keys (the last 40 of 128): devices answer for the query rows in their chunk', async () => {
  const { q, k, v } = qkv(2, 1, 128, 8);
  const qLast = { ...q, shape: [2, 40, 8], data: new Float32Array([...q.data.subarray(88 * 8, 128 * 8), ...q.data.subarray(216 * 8, 256 * 8)]) };
  const p = { segmentLengths: [16, 64, 128], dilationRates: [1, 2, 4] };
  for (const backend of ['cpu', 'wasm'] as const) {
    const dist = await runNode(attention, { q: qLast, k, v }, { variant: 'dilated-distributed', devices: 4, ...p }, { backend });
    const one = await runNode(attention, { q: qLast, k, v }, { variant: 'dilated', ...p }, { backend });
    expectClose(outOf(dist), outOf(one), { atol: 1e-5 }, `last 40 queries on ${backend}`);
  }
});

describe('dilated-distributed: the all-gather and the devices', () => {
  // H = 1, T = 64, 4 devices of 16 positions; pair (64, 4): one segment over all devices, each keeps
  // its positions ≡ 0 (mod 4) — 4 rows of K and V (D = Dv = 8) — and sends them to 3 peers.
  const ins = qkv(1, 1, 64, 8);
  it('counts the sparse rows each device sends to the devices of its segment', async () => {
    const r = devicesOf(await runNode(attention, ins, { variant: 'dilated-distributed', segmentLengths: [16, 64], dilationRates: [1, 4], devices: 4 }));
    expect(deviceMetricsSchema.safeParse(r).error?.issues ?? []).toEqual([]);
    const rowBytes = (8 + 8) * 4;
    // Pair (16, 1) stays on each device: nothing sent. Pair (64, 4): 4 kept rows to 3 peers.
    for (const d of r.perDevice as { bytesSent: number }[]) expect(d.bytesSent).toBe(4 * 3 * rowBytes);
    expect(r.totalBytesSent).toBe(4 * 4 * 3 * rowBytes);
    expect(r.gatheredBytes).toBe(4 * 12 * rowBytes);
  });

  it('per-device peak memory falls with more devices', async () => {
    const big = qkv(2, 2, 512, 16);
    const peak = async (devices: number) =>
      devicesOf(await runNode(attention, big, { variant: 'dilated-distributed', segmentLengths: [64, 512], dilationRates: [1, 8], devices })).maxDevicePeakBytes as number;
    const [p2, p4, p8] = [await peak(2), await peak(4), await peak(8)];
    expect(p4 / p2).toBeLessThan(0.6);
    expect(p8 / p4).toBeLessThan(0.6);
  });

  it('on wasm, in workers: counted and measured per-device memory both fall with more devices', async () => {
    const big = qkv(2, 2, 512, 16);
    const run = async (devices: number) =>
      devicesOf(await runNode(attention, big, { variant: 'dilated-distributed', segmentLengths: [64, 512], dilationRates: [1, 8], devices }, { backend: 'wasm' }));
    const [r2, r4, r8] = [await run(2), await run(4), await run(8)];
    const counted = [r2, r4, r8].map((r) => r.maxDevicePeakBytes as number);
    const measured = [r2, r4, r8].map((r) => (r.measured as { maxDevicePeakBytes: number }).maxDevicePeakBytes);
    expect([r2.transport, r2.kernel]).toEqual(['worker_threads', 'wasm']);
    for (let x = 1; x < 3; x++) {
      expect(counted[x]! / counted[x - 1]!).toBeLessThan(0.6);
      expect(measured[x]! / measured[x - 1]!).toBeLessThan(0.7);
    }
  });

  it('a cancel stops the device workers mid-run; the next run starts fresh ones and is exact', async () => {
    const { testContext } = await import('../testing.js');
    const big = qkv(2, 2, 256, 8);
    const p = { variant: 'dilated-distributed', segmentLengths: [32, 256], dilationRates: [1, 4], devices: 4 };
    const ctx = await testContext('cpu', ['out', 'devices']);
    let calls = 0;
    ctx.checkCancelled = () => {
      if (++calls > 3) throw new (class extends Error {})('run cancelled');
    };
    await expect(attention.run(ctx, big as never, attention.params.parse(p))).rejects.toThrow(/cancelled/);
    const again = await runNode(attention, big, p);
    expect(devicesOf(again).transport).toBe('worker_threads');
    const one = await runNode(attention, big, { ...p, variant: 'dilated', devices: undefined });
    expectClose(outOf(again), outOf(one), { atol: 1e-5 });
  });

  it('the compiler refuses a split LongNet does not make (validate says so before anything runs)', () => {
    const doc = (p: Record<string, unknown>) => ({
      format: 'context-lab/pipeline',
      version: 1,
      nodes: [
        { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 64, headDim: 8, seed: 1 } },
        { id: 'att', type: 'attention', params: { variant: 'dilated-distributed', ...p } },
      ],
      edges: ['q', 'k', 'v'].map((x) => ({ from: `qkv.${x}`, to: `att.${x}` })),
    });
    const issues = (d: unknown) => {
      const r = compile(d, registry);
      return r.ok ? [] : r.issues.map((i) => `${i.nodeId}: ${i.message}`);
    };
    expect(issues(doc({ segmentLengths: [16, 64], dilationRates: [1, 4], devices: 4 }))).toEqual([]);
    expect(issues(doc({ segmentLengths: [16], dilationRates: [1], devices: 3 }))).toEqual([expect.stringMatching(/^att: .*params\.devices = 3 must divide/)]);
    expect(issues(doc({ segmentLengths: [24], dilationRates: [1], devices: 4 }))).toEqual([expect.stringMatching(/^att: .*params\.segmentLengths\[0\] = 24/)]);
  });

  it('refuses a split LongNet does not make, naming the param', async () => {
    await expect(runNode(attention, ins, { variant: 'dilated-distributed', segmentLengths: [16], dilationRates: [1], devices: 3 })).rejects.toThrow(/params\.devices = 3 must divide/);
    await expect(runNode(attention, ins, { variant: 'dilated-distributed', segmentLengths: [24], dilationRates: [1], devices: 4 })).rejects.toThrow(/params\.segmentLengths\[0\] = 24/);
    const bias = { kind: 'bias' as const, terms: [{ type: 'alibi' as const, slopes: [0.5] }] };
    await expect(runNode(attention, { ...ins, bias }, { variant: 'dilated-distributed', devices: 2 })).rejects.toThrow(/dilated-distributed.*bias/);
  });
});
