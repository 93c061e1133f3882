// The package API plans a run as `ctxlab run` does (one planRun): --set overrides are applied and a
// .npy source learns its shape from the file's header before compiling, so the memory guard refuses
// the same documents with the same issue, and the plans predict the same bytes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../engine/io/npy.js';
import { PipelineLoadError } from '../../engine/node/host.js';
import { f32 } from '../../engine/tensor.js';
import { runCommand, type RunFlags } from '../../cli/run.js';
import { runPipeline, validatePipeline } from '../api.js';

const dir = mkdtempSync(join(tmpdir(), 'ctxlab-api-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// 16 × 16 float32 (1 KiB) and 512 × 512 float32 (1 MiB): only the header says which.
writeFileSync(join(dir, 'small.npy'), encodeNpy(f32([16, 16], new Float32Array(256).fill(1))));
writeFileSync(join(dir, 'big.npy'), encodeNpy(f32([512, 512], new Float32Array(512 * 512).fill(1))));
const doc = {
  format: 'context-lab/pipeline', version: 1, name: 'npy',
  nodes: [{ id: 'src', type: 'source.npy', params: { path: 'small.npy' } }, { id: 'save', type: 'sink.npy', params: { name: 'x' } }],
  edges: [{ from: 'src.out', to: 'save.in' }],
};
const file = join(dir, 'npy.json');
writeFileSync(file, JSON.stringify(doc));
const toBig = { node: 'src', param: 'path', value: 'big.npy' };
const budget = 256 << 10;
const cli = (set: string[]) => runCommand(file, { backend: 'cpu', set, json: true, memoryBudget: '256KiB' } satisfies RunFlags);

describe('runPipeline plans as ctxlab run does', () => {
  it('learns the shape from the header: a file over the budget is refused before it runs, with the same issue', async () => {
    const err = await runPipeline(doc, { baseDir: dir, memoryBudget: budget, overrides: [toBig] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineLoadError);
    const issues = (err as PipelineLoadError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.nodeId).toBe('src');
    const c = await cli(['src.path=big.npy']);
    expect(c.status).toBe('refused');
    expect((c.json as { issues: unknown }).issues).toEqual(issues);
    // Without reading files, validatePipeline cannot know the size: it plans the same document as fitting.
    expect(validatePipeline(doc, { overrides: [toBig], memoryBudget: budget }).ok).toBe(true);
  }, 60_000);

  it('runs the file within the budget, both predicting its bytes from the header', async () => {
    const api = await runPipeline(doc, { baseDir: dir, memoryBudget: budget });
    const c = await cli([]);
    expect(api.status).toBe('ok');
    expect(c.status).toBe('ok');
    const predicted = (p: { nodes: { nodeId: string; predictedPeakBytes: number }[] }) => p.nodes.find((n) => n.nodeId === 'src')!.predictedPeakBytes;
    expect(predicted(api.profile)).toBeGreaterThanOrEqual(16 * 16 * 4);
    expect(predicted(api.profile)).toBe(predicted((c.json as { profile: Parameters<typeof predicted>[0] }).profile));
    expect((api.artifacts.x!.value as { shape: number[] }).shape).toEqual([16, 16]);
  }, 60_000);

  it('names an override of a node the pipeline does not have, as --set does', async () => {
    const err = await runPipeline(doc, { baseDir: dir, overrides: [{ node: 'nope', param: 'path', value: 'x' }] }).catch((e: unknown) => e);
    const c = await cli(['nope.path=x']);
    expect((err as PipelineLoadError).issues).toEqual((c.json as { issues: unknown }).issues);
    expect((err as PipelineLoadError).issues[0]!.message).toMatch(/no node "nope"/);
    expect(validatePipeline(doc, { overrides: [{ node: 'nope', param: 'path', value: 'x' }] })).toEqual({ ok: false, issues: (err as PipelineLoadError).issues });
  }, 60_000);
});
