// train.lm through the built CLI, as a user meets it: a text too short to train on is an invalid
// pipeline (exit 2) before any step runs; Ctrl-C once stops training and still saves the checkpoint.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctxlab } from '../../cli/testing.js';

const doc = (text: Record<string, unknown>, train: Record<string, unknown>) => ({
  format: 'context-lab/pipeline',
  version: 1,
  nodes: [
    { id: 'text', type: 'source.text', params: text },
    { id: 'bytes', type: 'tokenizer', params: { encoding: 'bytes' } },
    { id: 'train', type: 'train.lm', params: { layers: 1, hidden: 16, heads: 2, intermediate: 32, vocab: 256, contextLength: 32, batch: 2, evalWindows: 1, ...train } },
    { id: 'save', type: 'sink.model', params: { name: 'ckpt' } },
  ],
  edges: [
    { from: 'text.text', to: 'bytes.text' },
    { from: 'bytes.tokens', to: 'train.tokens' },
    { from: 'train.model', to: 'save.model' },
  ],
});

describe('ctxlab run with train.lm', () => {
  it('a text shorter than one window is an invalid pipeline: exit 2 naming the node and port, before training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-train-'));
    const file = join(dir, 'short.json');
    writeFileSync(file, JSON.stringify(doc({ text: 'Call me Ishmael. Some years ago.' }, { steps: 5 })));
    const r = await ctxlab(['run', file, '--out', join(dir, 'out')]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/train.*the training part of the text has \d+ tokens: fewer than one window of contextLength \+ 1 = 33/);
    expect(existsSync(join(dir, 'out', 'ckpt'))).toBe(false);
  }, 120_000);

  it('Ctrl-C once: training stops after the current step, the checkpoint is still written and says how far it got', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-train-'));
    const file = join(dir, 'long.json');
    writeFileSync(file, JSON.stringify(doc({ corpus: 'moby-dick', maxChars: 20000 }, { steps: 100000, warmupSteps: 1 })));
    const out = join(dir, 'out');
    const child = spawn(process.execPath, ['bin/ctxlab.mjs', 'run', file, '--out', out, '--json'], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Interrupt once training is under way (the engine worker and tfjs take a few seconds to start).
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    await new Promise((r) => setTimeout(r, 8000));
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => (child.kill('SIGKILL'), r(-2)), 90_000))]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('stopping: nodes that work in steps');
    const report = JSON.parse(stdout);
    const m = report.metrics.train;
    expect(m.stoppedEarly).toMatch(/^stopped after step \d+ of 100000$/);
    expect(m.steps).toBeGreaterThan(0);
    expect(m.loss).toHaveLength(m.steps);
    // The profile counts the work done, not the 100,000 steps planned.
    const node = report.profile.nodes.find((n: { nodeId: string }) => n.nodeId === 'train');
    const planned = 6 * m.params * 2 * 32 * 100000;
    expect(node.flops).toBeCloseTo((planned * m.steps) / 100000, -3);
    const config = JSON.parse(readFileSync(join(out, 'ckpt', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'llama', hidden_size: 16 });
    expect(existsSync(join(out, 'ckpt', 'model.safetensors'))).toBe(true);
  }, 150_000);
});
