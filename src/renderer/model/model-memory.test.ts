import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../nodes/model/config.js';
import { planMemory } from '../../nodes/model/memory.js';
import { modelMemory } from '../../nodes/model/memory-node.js';
import { modelMemoryMetrics } from '../../nodes/model/metrics.js';
import { runNode } from '../../nodes/testing.js';
import type { MetricsValue } from '../../engine/values.js';
import { fitReadout, memorySegments } from './model-memory.js';

const llama = JSON.parse(readFileSync('src/nodes/model/fixtures/llama-3.1-8b.json', 'utf8'));

describe('model memory view helpers', () => {
  it('segments: weights per component, KV cache and activations, summing to the total', async () => {
    // What the node reports, read through the schema it declares (as the view reads it).
    const out = await runNode(modelMemory, { model: { kind: 'model', config: llama } as never }, { context: 131072 });
    const m = modelMemoryMetrics.parse((out.metrics as MetricsValue).values);
    const plan = planMemory(parseModelConfig(llama), { context: 131072, batch: 1, weights: 'bf16', kv: 'bf16', kvPolicy: { kind: 'full' }, prefillChunk: 2048 });
    expect(m.totalBytes).toBe(plan.totalBytes);
    const segs = memorySegments(m);
    expect(segs.map((s) => s.key)).toEqual(['embedding', 'attention', 'mlp', 'norm', 'head', 'kv', 'activation']);
    expect(segs.reduce((n, s) => n + s.bytes, 0)).toBe(plan.totalBytes);
  });

  it('fitReadout: the longest context for a typed budget, with the node’s params', () => {
    expect(fitReadout(llama, { context: 131072 }, '24GiB')).toEqual({ ok: true, text: '72,472 tokens', maxContext: 72472 });
    expect(fitReadout(llama, {}, '80GiB').text).toMatch(/beyond max_position_embeddings 131,072/);
    expect(fitReadout(llama, {}, '10GiB').text).toMatch(/nothing fits/);
    expect(fitReadout(llama, {}, 'lots')).toMatchObject({ ok: false, text: expect.stringMatching(/cannot read "lots"/) });
  });
});
