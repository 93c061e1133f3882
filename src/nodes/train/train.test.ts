import { describe, expect, it } from 'vitest';
import { testContext } from '../testing.js';
import { forward, crossEntropy, initWeights, positionTables, disposeTables, POSITION_SCHEMES, hfConfig, archFromConfig, type LmArch } from './lm.js';
import './gradients.js';
import { learningRate, sampleBatch, splitTokens, train, type TrainOptions } from './train.js';

const tiny = (position: LmArch['position']): LmArch => ({
  vocab: 32, layers: 2, hidden: 16, heads: 4, kvHeads: 2, intermediate: 24, position,
  ropeTheta: 10000, ropeLinearFactor: 1, maxPositions: 32, rmsNormEps: 1e-6, window: 0,
});

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  contextLength: 16, batch: 4, steps: 30, lr: 3e-3, minLrRatio: 0.1, warmupSteps: 5, weightDecay: 0.01,
  beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1, seed: 1, heldOut: 0.2, evalWindows: 4, ...o,
});

/** A learnable sequence: a repeating pattern with a little seeded noise. */
function corpus(n: number, vocab: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = (i * 7 + (i % 5 === 0 ? 3 : 0)) % vocab;
  return ids;
}

describe('schedule and data', () => {
  it('warms up linearly, then decays by a cosine to minLrRatio·lr', () => {
    const o = { lr: 1, warmupSteps: 10, steps: 110, minLrRatio: 0.1 };
    expect(learningRate(o, 0)).toBeCloseTo(0.1, 12);
    expect(learningRate(o, 9)).toBeCloseTo(1, 12);
    expect(learningRate(o, 10)).toBeCloseTo(1, 12);
    expect(learningRate(o, 60)).toBeCloseTo(0.1 + 0.45, 12); // half way: min + (1 − min)/2
    expect(learningRate(o, 110)).toBeCloseTo(0.1, 12);
  });
  it('holds out the end of the text and samples windows only from the start', () => {
    const ids = Int32Array.from({ length: 100 }, (_, i) => i);
    const { train: tr, held } = splitTokens(ids, 0.25);
    expect([tr.length, held[0]]).toEqual([75, 75]);
    for (let s = 0; s < 20; s++) {
      const b = sampleBatch(tr, 10, 3, 5, s);
      expect(Math.max(...b.input, ...b.labels)).toBeLessThan(75);
      expect(b.labels[0]).toBe(b.input[0]! + 1);
    }
    expect(sampleBatch(tr, 10, 3, 5, 4)).toEqual(sampleBatch(tr, 10, 3, 5, 4));
  });
});

describe('gradients match finite differences', () => {
  for (const position of POSITION_SCHEMES) {
    it(position, async () => {
      const { tf } = await testContext('cpu');
      const a = tiny(position);
      const w0 = initWeights(a, 3);
      // Larger weights than the 0.02 init, so every path (attention included) carries gradient.
      for (const [, t] of w0) if (t.shape.length > 1) for (let i = 0; i < t.data.length; i++) t.data[i]! *= 15;
      const T = 8;
      const ids = tf.tensor2d(Int32Array.from({ length: 2 * T }, (_, i) => (i * 5 + 1) % a.vocab), [2, T], 'int32');
      const labels = tf.tensor1d(Int32Array.from({ length: 2 * T }, (_, i) => (i * 3 + 2) % a.vocab), 'int32');
      const tables = positionTables(tf, a, T);
      const vars = new Map([...w0].map(([n, t]) => [n, tf.variable(tf.tensor(t.data, t.shape))]));
      const loss = () => crossEntropy(tf, forward(tf, a, (n) => vars.get(n)!, ids, tables), labels);
      const { grads } = tf.variableGrads(loss, [...vars.values()]);
      // Check the largest-gradient entry of q_proj (attention path) and of each other kind of tensor.
      const names = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.self_attn.v_proj.weight', 'model.layers.0.mlp.gate_proj.weight', 'model.norm.weight', 'model.embed_tokens.weight'];
      if (position === 'learned') names.push('model.embed_positions.weight');
      for (const name of names) {
        const g = grads[vars.get(name)!.name]!.dataSync() as Float32Array;
        let idx = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[idx]!)) idx = i;
        const base = w0.get(name)!;
        const at = (delta: number) => {
          const data = base.data.slice();
          data[idx]! += delta;
          vars.get(name)!.assign(tf.tensor(data, base.shape));
          const l = tf.tidy(() => loss().dataSync()[0]!);
          vars.get(name)!.assign(tf.tensor(base.data, base.shape));
          return l;
        };
        const h = 1e-2 * Math.max(1, Math.abs(base.data[idx]!));
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(numeric - g[idx]!) / Math.abs(g[idx]!), `${name}[${idx}]: autograd ${g[idx]}, finite difference ${numeric}`).toBeLessThan(1e-2);
      }
      disposeTables(tf, tables);
      tf.dispose([ids, labels, ...vars.values(), ...Object.values(grads)]);
    });
  }
});

describe('training', () => {
  it('lowers the loss, is deterministic for a seed, and evaluates held-out text', async () => {
    const { tf } = await testContext('wasm');
    const a = tiny('rope');
    const ids = corpus(600, a.vocab);
    const run = () => train(tf, a, initWeights(a, 1), ids, opts({ lr: 1e-2 }));
    const r1 = await run();
    const r2 = await run();
    expect(r1.losses.length).toBe(30);
    expect(r1.losses[29]).toBeLessThan(0.7 * r1.losses[0]!);
    expect(r1.heldOutLoss).toBeLessThan(r1.losses[0]!);
    expect(r2.losses).toEqual(r1.losses);
    expect([...r2.weights.get('lm_head.weight')!.data]).toEqual([...r1.weights.get('lm_head.weight')!.data]);
  });
  it('stops on a non-finite loss naming the step and the last finite loss', async () => {
    const { tf } = await testContext('cpu');
    const a = tiny('alibi');
    await expect(train(tf, a, initWeights(a, 1), corpus(600, a.vocab), opts({ lr: 1e30, gradClip: 0, steps: 20 }))).rejects.toThrow(/loss is (NaN|-?Infinity) at step \d+; the last finite loss was [\d.]+/);
  });
  it('a graceful stop ends after the current step and returns that step\'s weights; a cancel keeps nothing', async () => {
    const { tf } = await testContext('cpu');
    const a = tiny('rope');
    const ids = corpus(600, a.vocab);
    const full = await train(tf, a, initWeights(a, 1), ids, opts({ steps: 12 }));
    let steps = 0;
    const stopped = await train(tf, a, initWeights(a, 1), ids, opts({ steps: 12 }), { onStep: () => steps++, stopRequested: () => steps >= 5 });
    expect(stopped.stoppedEarly).toBe('stopped after step 5 of 12');
    expect(stopped.steps).toBe(5);
    expect(stopped.losses).toEqual(full.losses.slice(0, 5));
    expect(Number.isFinite(stopped.heldOutLoss)).toBe(true);
    const { CancelledError } = await import('../../engine/node.js');
    let n = 0;
    const cancel = () => {
      if (n >= 3) throw new CancelledError();
    };
    await expect(train(tf, a, initWeights(a, 1), ids, opts({ steps: 12 }), { onStep: () => n++, checkCancelled: cancel })).rejects.toThrow(CancelledError);
  });
  it('refuses a text shorter than a window', async () => {
    const { tf } = await testContext('cpu');
    const a = tiny('rope');
    await expect(train(tf, a, initWeights(a, 1), corpus(15, a.vocab), opts())).rejects.toThrow(/fewer than one window of contextLength \+ 1 = 17/);
  });
  it('round-trips its architecture through an HF config', () => {
    for (const position of POSITION_SCHEMES) {
      const a = { ...tiny(position), ropeLinearFactor: 4, window: 8 };
      expect(archFromConfig(hfConfig(a))).toEqual(a);
    }
    expect(hfConfig(tiny('rope')).position_embedding_type).toBeUndefined();
    expect(hfConfig(tiny('alibi')).position_embedding_type).toBe('alibi');
  });
});

describe('backends', () => {
  it('wasm computes the same loss and gradients as cpu (tfjs-wasm has no gather gradient and an int32-only oneHot)', async () => {
    const a = tiny('rope');
    const w0 = initWeights(a, 3);
    const result: Record<string, { loss: number; grads: Float32Array[] }> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      const { tf } = await testContext(backend);
      const vars = new Map([...w0].map(([n, t]) => [n, tf.variable(tf.tensor(t.data, t.shape))]));
      const ids = tf.tensor2d(Int32Array.from({ length: 16 }, (_, i) => (i * 5) % a.vocab), [2, 8], 'int32');
      const labels = tf.tensor1d(Int32Array.from({ length: 16 }, (_, i) => (i * 3 + 1) % a.vocab), 'int32');
      const tables = positionTables(tf, a, 8);
      const { value, grads } = tf.variableGrads(() => crossEntropy(tf, forward(tf, a, (n) => vars.get(n)!, ids, tables), labels), [...vars.values()]);
      result[backend] = { loss: value.dataSync()[0]!, grads: [...vars.values()].map((v) => grads[v.name]!.dataSync() as Float32Array) };
      disposeTables(tf, tables);
      tf.dispose([ids, labels, value, ...vars.values(), ...Object.values(grads)]);
    }
    expect(result.wasm!.loss).toBeCloseTo(result.cpu!.loss, 5);
    result.cpu!.grads.forEach((g, i) => {
      for (let j = 0; j < g.length; j++) expect(Math.abs(result.wasm!.grads[i]![j]! - g[j]!)).toBeLessThan(1e-5 + 1e-3 * Math.abs(g[j]!));
    });
  });
});

describe('train.lm and sink.model nodes', () => {
  it('train a model whose checkpoint holds its weights in HF layout, and fine-tune from it with position interpolation', async () => {
    const { trainLm, modelSink } = await import('./index.js');
    const { readHeader, readTensor, memoryFile } = await import('../../engine/io/safetensors.js');
    const ids = corpus(800, 32);
    const tokens = { kind: 'tokens' as const, ids, offsets: new Int32Array(ids.length * 2), text: '', encoding: 'bytes' };
    const ctx = await testContext('cpu');
    const params = trainLm.params.parse({ layers: 1, hidden: 16, heads: 2, intermediate: 32, contextLength: 16, batch: 2, steps: 12, lr: 1e-2, warmupSteps: 2, evalWindows: 2, evalLengths: [32] });
    const out = (await trainLm.run(ctx, { tokens, model: undefined }, params)) as Record<string, any>;
    expect(out.model.config).toMatchObject({ model_type: 'llama', vocab_size: 32, hidden_size: 16, num_hidden_layers: 1, num_key_value_heads: 2 });
    expect(out.metrics.values.loss).toHaveLength(12);
    expect(typeof out.metrics.values.heldOutLossByLength['32']).toBe('number');
    const emitted: Record<string, any> = {};
    await modelSink.run({ ...ctx, emit: (n: string, v: unknown) => (emitted[n] = v) }, { model: out.model }, modelSink.params.parse({ name: 'm' }));
    expect(Object.keys(emitted).sort()).toEqual(['m/config.json', 'm/model.safetensors']);
    expect(JSON.parse(emitted['m/config.json'].text)).toEqual(out.model.config);
    const file = memoryFile(emitted['m/model.safetensors'].data);
    const header = await readHeader(file, 'model.safetensors');
    expect([...header.entries.keys()].sort()).toEqual(out.model.weights.names().sort());
    const q = await readTensor(file, header, 'model.layers.0.self_attn.q_proj.weight');
    expect(q.shape).toEqual([16, 16]);
    expect([...q.data]).toEqual([...(await out.model.weights.read('model.layers.0.self_attn.q_proj.weight')).data]);
    // Fine-tune at 2× the length with PI: the architecture comes from the model, the factor from params.
    const ft = trainLm.params.parse({ contextLength: 32, batch: 2, steps: 3, ropeScalingFactor: 2, evalWindows: 1, layers: 7 });
    const tuned = (await trainLm.run(ctx, { tokens, model: out.model }, ft)) as Record<string, any>;
    expect(tuned.model.config).toMatchObject({ num_hidden_layers: 1, rope_scaling: { rope_type: 'linear', factor: 2 }, max_position_embeddings: 32 });
  });
  it('train.lm stopped gracefully outputs the model it has and says so in its metrics', async () => {
    const { trainLm } = await import('./index.js');
    const ids = corpus(400, 32);
    const tokens = { kind: 'tokens' as const, ids, offsets: new Int32Array(ids.length * 2), text: '', encoding: 'bytes' };
    const ctx = await testContext('cpu');
    let progress = 0;
    let work = 1;
    const stopping = { ...ctx, progress: () => progress++, stopRequested: () => progress >= 2, workDone: (f: number) => (work = f) };
    const params = trainLm.params.parse({ layers: 1, hidden: 16, heads: 2, intermediate: 32, contextLength: 16, batch: 2, steps: 50, evalWindows: 1 });
    const out = (await trainLm.run(stopping, { tokens, model: undefined }, params)) as Record<string, any>;
    expect(out.metrics.values).toMatchObject({ steps: 2, stoppedEarly: 'stopped after step 2 of 50' });
    expect(work).toBe(2 / 50);
    expect(out.metrics.values.loss).toHaveLength(2);
    expect(out.model.weights.names()).toContain('lm_head.weight');
  });
  it('refuses "." and ".." as a checkpoint folder name', async () => {
    const { modelSink } = await import('./index.js');
    expect(modelSink.params.safeParse({ name: '..' }).success).toBe(false);
    expect(modelSink.params.safeParse({ name: 'a/b' }).success).toBe(false);
  });
});
