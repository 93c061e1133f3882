// The lab's own checkpoints (train.lm → sink.model) through model.load + model.forward: for every
// position scheme the trainer offers (position_embedding_type none, sinusoidal, learned, rope, alibi,
// xpos), with a sliding window and with position interpolation, the saved checkpoint's logits equal
// the trainer's own forward() to 1e-5 on the cpu backend.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfc from '@tensorflow/tfjs-core';
import { encodeSafetensors } from '../../engine/io/safetensors.js';
import { i32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import { runNode, testContext } from '../testing.js';
import { forward, hfConfig, initWeights, positionTables, disposeTables, POSITION_SCHEMES, type LmArch, type Weights } from '../train/lm.js';
import { memoryWeights } from '../train/index.js';
import { modelForward } from './forward.js';
import { modelLoad } from './load.js';
import { expectedTensors } from './llama.js';
import { parseModelConfig } from './config.js';

const T = 12;
const ids = Array.from({ length: T }, (_, i) => (i * 5 + 3) % 40);

const arch = (position: LmArch['position'], o: Partial<LmArch> = {}): LmArch => ({
  vocab: 40, layers: 2, hidden: 16, heads: 4, kvHeads: 2, intermediate: 24, position,
  ropeTheta: 10000, ropeLinearFactor: 1, maxPositions: 16, rmsNormEps: 1e-6, window: 0, ...o,
});

/** HF's init (std 0.02) makes near-uniform logits; larger weights make every position scheme matter. */
function weights(a: LmArch, seed: number): Weights {
  const w = initWeights(a, seed);
  for (const t of w.values()) if (t.shape.length === 2) for (let i = 0; i < t.data.length; i++) t.data[i]! *= 25;
  return w;
}

/** The trainer's logits [T, V] for ids (batch 1). */
async function trainerLogits(a: LmArch, w: Weights): Promise<Float32Array> {
  const { tf } = await testContext('cpu');
  const tensors = new Map([...w].map(([name, t]) => [name, tf.tensor(t.data, t.shape)]));
  const tables = positionTables(tf, a, T);
  try {
    const out = forward(tf, a, (name) => tensors.get(name)!, tf.tensor2d(ids, [1, T], 'int32') as tfc.Tensor2D, tables);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  } finally {
    disposeTables(tf, tables);
    tf.dispose([...tensors.values()]);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-lab-ckpt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes the checkpoint as sink.model does (config.json + model.safetensors) and loads it with model.load. */
async function saveAndLoad(name: string, a: LmArch, w: Weights): Promise<ModelValue> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(hfConfig(a), null, 2) + '\n');
  await writeFile(join(folder, 'model.safetensors'), encodeSafetensors(Object.fromEntries([...w].map(([n, t]) => [n, { shape: t.shape, data: t.data }])), { format: 'pt' }));
  return (await runNode(modelLoad, {}, { path: folder })).model as ModelValue;
}

const run = async (model: ModelValue, params: Record<string, unknown> = {}) => {
  const out = await runNode(modelForward, { model, ids: i32([T], ids) }, params, { connected: ['logits', 'metrics'] });
  return { logits: (out.logits as Tensor).data as Float32Array, metrics: (out.metrics as MetricsValue).values };
};

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe("a saved checkpoint's logits through model.forward equal the trainer's own forward (cpu, max abs ≤ 1e-5)", () => {
  const cases: [string, LmArch][] = [
    ...POSITION_SCHEMES.map((s): [string, LmArch] => [s, arch(s)]),
    ['alibi, sliding window 5', arch('alibi', { window: 5 })],
    ['rope, sliding window 4', arch('rope', { window: 4 })],
    ['rope, linear rope_scaling ×2', arch('rope', { ropeLinearFactor: 2 })],
    ['xpos, linear rope_scaling ×3', arch('xpos', { ropeLinearFactor: 3 })],
    ['learned, GQA 4/1', arch('learned', { kvHeads: 1 })],
  ];
  const seen: Float32Array[] = [];
  for (const [name, a] of cases)
    it(name, async () => {
      const w = weights(a, 7);
      const model = await saveAndLoad(name.replace(/\W+/g, '-'), a, w);
      const expected = await trainerLogits(a, w);
      const { logits, metrics } = await run(model);
      expect(logits.length).toBe(T * a.vocab);
      expect(maxAbs(logits, expected)).toBeLessThan(1e-5);
      // The schemes give different models (same weights seed): the check above is not vacuous.
      for (const other of seen) expect(maxAbs(other, logits)).toBeGreaterThan(1e-2);
      seen.push(logits);
      const rope = a.position === 'rope' && a.ropeLinearFactor !== 1 ? 'linear' : a.position;
      expect(metrics.rope).toBe(({ rope: 'rope', linear: 'linear', xpos: 'xpos', alibi: 'alibi' } as Record<string, string>)[rope] ?? 'none');
    });
});

describe('techniques on top of a lab checkpoint', () => {
  it('a rope_scaling override on an xpos model is position interpolation, as the trainer trains it', async () => {
    const a = arch('xpos');
    const w = weights(a, 3);
    const model = await saveAndLoad('xpos-override', a, w);
    const { logits } = await run(model, { ropeScaling: { rope_type: 'linear', factor: 4 } });
    expect(maxAbs(logits, await trainerLogits({ ...a, ropeLinearFactor: 4 }, w))).toBeLessThan(1e-5);
  });
  it('a sliding-window attention variant on an alibi model keeps the slopes (the trainer with that window)', async () => {
    const a = arch('alibi');
    const w = weights(a, 4);
    const model = await saveAndLoad('alibi-window', a, w);
    const { logits } = await run(model, { attention: { variant: 'sliding-window', window: 3, causal: true } });
    expect(maxAbs(logits, await trainerLogits({ ...a, window: 3 }, w))).toBeLessThan(1e-5);
  });
  it('decoding token by token through the cache gives the one-pass logits (sinusoidal, learned, xpos)', async () => {
    for (const s of ['sinusoidal', 'learned', 'xpos'] as const) {
      const a = arch(s);
      const model = { kind: 'model', config: hfConfig(a), weights: memoryWeights(weights(a, 5)), source: s } as ModelValue;
      const one = await run(model);
      const steps = await run(model, { prefillTokens: 3 });
      expect(maxAbs(steps.logits, one.logits), s).toBeLessThan(1e-5);
    }
  });
  it('refuses rope_scaling on a model without rotations, and learned positions past the table', async () => {
    const a = arch('alibi');
    const model = { kind: 'model', config: hfConfig(a), weights: memoryWeights(weights(a, 1)), source: 'alibi-model' } as ModelValue;
    await expect(run(model, { ropeScaling: { rope_type: 'yarn', factor: 2 } })).rejects.toThrow(/rope_scaling "yarn" needs a rotary model; alibi-model.* "alibi"/);
    const b = arch('learned', { maxPositions: 8 });
    const learned = { kind: 'model', config: hfConfig(b), weights: memoryWeights(weights(b, 1)), source: 'learned-model' } as ModelValue;
    await expect(run(learned)).rejects.toThrow(/learned positions hold 8 positions/);
    const odd = { kind: 'model', config: { ...hfConfig(a), position_embedding_type: 'relative' }, weights: memoryWeights(weights(a, 1)) } as ModelValue;
    await expect(run(odd)).rejects.toThrow(/"position_embedding_type" "relative" is not one of/);
  });
  it('lists model.embed_positions.weight among the expected tensors of a learned checkpoint', () => {
    const cfg = hfConfig(arch('learned'));
    const names = expectedTensors(parseModelConfig(cfg), cfg).map((t) => t.name);
    expect(names).toContain('model.embed_positions.weight');
    expect(expectedTensors(parseModelConfig(hfConfig(arch('rope'))), hfConfig(arch('rope'))).map((t) => t.name)).not.toContain('model.embed_positions.weight');
  });
});
