// The memory guard covers shapes known only at run time: a node whose inputs the compiler could not
// size (a text's token count) is re-planned from its actual inputs before it runs, and refused when
// its predicted peak with the live values is over the budget.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { ctxlab } from '../../cli/testing.js';
import { compile } from '../../engine/compile/compile.js';
import { nodeExecEnv } from '../../engine/node/host.js';
import { executePlan } from '../../engine/run/runtime.js';

/** 50 kB of text → bytes tokenizer (50,000 tokens) → embedding of width 1024: 195 MiB of output. */
function bigEmbedding(dim = 1024) {
  return {
    format: 'context-lab/pipeline', version: 1, name: 'big embedding',
    nodes: [
      { id: 'text', type: 'source.text', params: { text: 'a'.repeat(50_000) } },
      { id: 'tokens', type: 'tokenizer', params: { encoding: 'bytes' } },
      { id: 'embed', type: 'embedding', params: { dim } },
      { id: 'save', type: 'sink.npy', params: { name: 'x' } },
    ],
    edges: [{ from: 'text.text', to: 'tokens.text' }, { from: 'tokens.tokens', to: 'embed.tokens' }, { from: 'embed.out', to: 'save.in' }],
  };
}

describe('memory guard at run time', () => {
  it('the compiler cannot size the embedding: its plan leaves it open', () => {
    const r = compile(bigEmbedding(), registry);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.predictedPeakBytes).toBeLessThan(16 << 20);
    expect(r.warnings.some((w) => w.nodeId === 'embed')).toBe(true);
  });

  it('refuses the embedding before it runs, naming the node, the figure and the shape it learned', async () => {
    const r = compile(bigEmbedding(), registry);
    if (!r.ok) throw new Error('compile');
    const run = await executePlan(r.plan, await nodeExecEnv('cpu'), { memoryBudget: 16 << 20 });
    expect(run.status).toBe('failed');
    const err = run.errors.find((e) => e.nodeId === 'embed')!;
    expect(err.message).toMatch(/^refused before running: node "embed" \(embedding\) needs a predicted 19\d\.\d MiB at peak/);
    expect(err.message).toContain('over the memory budget of 16.0 MiB');
    expect(err.message).toContain('tokens [50000');
    // It never ran: nothing of its size was allocated, and the sink downstream was skipped.
    expect(run.profile.measuredPeakBytes).toBeLessThan(16 << 20);
    expect(run.profile.nodes.find((n) => n.nodeId === 'save')!.status).toBe('skipped');
  });

  it('runs it when the budget allows, and its profile predicts from the actual shapes', async () => {
    const r = compile(bigEmbedding(64), registry);
    if (!r.ok) throw new Error('compile');
    const run = await executePlan(r.plan, await nodeExecEnv('cpu'), { memoryBudget: 64 << 20 });
    expect(run.errors).toEqual([]);
    const embed = run.profile.nodes.find((n) => n.nodeId === 'embed')!;
    expect(embed.predictedPeakBytes).toBeGreaterThanOrEqual(50_000 * 64 * 4);
  });

  it('ctxlab run --memory-budget 16MiB: exit 1 with the refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-guard-'));
    writeFileSync(join(dir, 'big.json'), JSON.stringify(bigEmbedding()));
    const r = await ctxlab(['run', join(dir, 'big.json'), '--backend', 'cpu', '--memory-budget', '16MiB', '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/node "embed" failed: refused before running: node "embed" \(embedding\) needs a predicted 19\d\.\d MiB/);
  }, 60_000);
});
