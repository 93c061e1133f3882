import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { aft } from './aft.js';

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed).map((x) => x * scale));
const out = async (ins: object, p: Record<string, unknown>) => ((await runNode(aft, ins as never, p)).out as Tensor).data;

describe('ssm.aft', () => {
  // T = 2, D = 1, q = 0 (gate σ(0) = ½), k = (0, ln 2), v = (1, 3), w = [[0, ln 3], [ln 2, 0]].
  const ins = { q: f32([2, 1], [0, 0]), k: f32([2, 1], [0, Math.LN2]), v: f32([2, 1], [1, 3]), w: f32([2, 2], [0, Math.log(3), Math.LN2, 0]) };

  it('simple: a softmax of K over positions (by hand)', async () => {
    // weights 1 and 2: (1·1 + 2·3)/3 = 7/3, gated: 7/6. Causal: position 0 sees only itself → ½.
    expectClose(await out(ins, { mode: 'simple', causal: false }), [7 / 6, 7 / 6], { atol: 1e-6 });
    expectClose(await out(ins, { mode: 'simple', causal: true }), [0.5, 7 / 6], { atol: 1e-6 });
  });

  it('full: exp(K + w) weights (by hand)', async () => {
    // t = 0: e^{0+0} = 1, e^{ln 2 + ln 3} = 6 → 19/7 → 19/14.  t = 1: e^{0+ln 2} = 2, e^{ln 2+0} = 2 → 2 → 1.
    expectClose(await out(ins, { mode: 'full', causal: false }), [19 / 14, 1], { atol: 1e-6 });
    // Causal: t = 0 sees itself (½·1); t = 1 as above.
    expectClose(await out(ins, { mode: 'full', causal: true }), [0.5, 1], { atol: 1e-6 });
  });

  it('local: biases within the window only, zero (not masked) outside (by hand)', async () => {
    // window 1 keeps only w_{t,t} = 0, so both rows reduce to simple: 7/6.
    expectClose(await out(ins, { mode: 'local', window: 1, causal: false }), [7 / 6, 7 / 6], { atol: 1e-6 });
    // window 2 keeps every bias here: full mode's answer.
    expectClose(await out(ins, { mode: 'local', window: 2, causal: false }), [19 / 14, 1], { atol: 1e-6 });
  });

  it('runs every mode on the backend like the reference (cpu, wasm, webgpu), with and without w', async () => {
    const T = 45;
    const rand = { q: gauss([T, 6], 1), k: gauss([T, 6], 2, 2), v: gauss([T, 6], 3), w: gauss([T, T], 4, 0.5) };
    for (const backend of ['cpu', 'wasm'] as const)
      for (const mode of ['full', 'simple', 'local'])
        for (const causal of [true, false])
          await expectParity(aft, backend, rand, { mode, causal, window: 7, blockSize: 16 }, { atol: 1e-5, rtol: 1e-4 });
    for (const mode of ['full', 'simple', 'local'])
      await expectParity(aft, 'webgpu', rand, { mode, window: 7, blockSize: 16 }, { atol: 1e-5, rtol: 1e-4 });
    const { w: _w, ...seeded } = rand;
    await expectParity(aft, 'cpu', seeded, { mode: 'local', window: 5, seed: 3, posBiasStd: 1 }, { atol: 1e-5, rtol: 1e-4 });
    await expectParity(aft, 'cpu', seeded, { mode: 'full', seed: 3, posBiasStd: 1, blockSize: 8 }, { atol: 1e-5, rtol: 1e-4 });
  });

  it('local mode with a window as long as the sequence equals full mode; seeded biases depend on the seed', async () => {
    const T = 20;
    const r = { q: gauss([2, T, 4], 5), k: gauss([2, T, 4], 6), v: gauss([2, T, 4], 7) };
    const full = await out(r, { mode: 'full', seed: 1, posBiasStd: 1 });
    expectClose(await out(r, { mode: 'local', window: T, seed: 1, posBiasStd: 1 }), full, { atol: 1e-5, rtol: 1e-5 });
    const other = await out(r, { mode: 'full', seed: 2, posBiasStd: 1 });
    expect(Math.max(...other.map((x, i) => Math.abs(x - full[i]!)))).toBeGreaterThan(1e-3);
  });

  it('stays finite for large keys', async () => {
    const big = { q: gauss([30, 2], 1), k: gauss([30, 2], 2, 30), v: gauss([30, 2], 3) };
    for (const mode of ['full', 'simple', 'local']) {
      const got = await out(big, { mode, causal: false });
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(got, (runReference(aft, big, { mode, causal: false }).out as Tensor).data, { atol: 1e-5, rtol: 1e-4 });
    }
  });

  it('names the port whose shape is wrong', () => {
    const s = (shape: number[]) => tensorShape('float32', shape);
    const p = aft.params.parse({});
    expect(() => aft.infer({ q: s([8, 4]), k: s([8, 4]), v: s([8, 5]), w: undefined }, p)).toThrow(/"v"/);
    expect(() => aft.infer({ q: s([8, 4]), k: s([8, 4]), v: s([8, 4]), w: s([8, 7]) }, p)).toThrow(/"w"/);
  });
});
