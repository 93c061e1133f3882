// The engine worker dies mid-run (out of memory, a crash): `ctxlab run` names the node that was
// running and exits 1; `ctxlab sweep` keeps and writes the values that finished, with the value it
// died at marked. The death comes from the worker's test hook (src/engine/node/test-death.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctxlab } from './testing.js';

const doc = {
  format: 'context-lab/pipeline', version: 1, name: 'dies',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 64, headDim: 8 } },
    { id: 'att', type: 'attention', params: { variant: 'naive' } },
    { id: 'save', type: 'sink.npy', params: { name: 'out' } },
  ],
  edges: [{ from: 'qkv.q', to: 'att.q' }, { from: 'qkv.k', to: 'att.k' }, { from: 'qkv.v', to: 'att.v' }, { from: 'att.out', to: 'save.in' }],
};

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-death-'));
  writeFileSync(join(dir, 'p.json'), JSON.stringify(doc));
  return dir;
}

/** ctxlab with the worker's test hook armed. */
function dying(spec: string, args: string[]) {
  const before = process.env.CTXLAB_TEST_WORKER_DEATH;
  process.env.CTXLAB_TEST_WORKER_DEATH = spec;
  try {
    return ctxlab(args);
  } finally {
    if (before === undefined) delete process.env.CTXLAB_TEST_WORKER_DEATH;
    else process.env.CTXLAB_TEST_WORKER_DEATH = before;
  }
}

describe('the engine worker dies', () => {
  for (const how of ['exit', 'throw'])
    it(`run (${how}): names the running node and exits 1`, async () => {
      const dir = setup();
      const r = await dying(`att:${how}`, ['run', join(dir, 'p.json'), '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ctxlab: the engine worker died while node "att" \(attention\) was running \(out of memory\?\): engine worker /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }, 60_000);

  it('sweep: writes the values that finished and marks the one it died at', async () => {
    const dir = setup();
    const out = join(dir, 'out');
    const r = await dying('att:exit@qkv.seqLen=128', ['sweep', join(dir, 'p.json'), '--backend', 'cpu', '--set', 'qkv.seqLen=32,64,128,256', '--out', out]);
    expect(r.code).toBe(1);
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    const rows = csv.slice(1).map((l) => l.split(','));
    expect(rows.filter((c) => c[0] === '32' || c[0] === '64').every((c) => c[2] === 'done')).toBe(true);
    expect(rows.filter((c) => c[0] === '64').map((c) => c[1])).toEqual(['qkv', 'att', 'save']);
    const died = rows.find((c) => c[0] === '128')!;
    expect(died[2]).toBe('failed');
    expect(csv.find((l) => l.startsWith('128,'))).toContain('the engine worker died while node ""att"" (attention) was running');
    expect(rows.find((c) => c[0] === '256')![2]).toBe('not run');
    const json = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(json.rows.map((x: { value: number; status: string }) => [x.value, x.status])).toEqual([[32, 'ok'], [64, 'ok'], [128, 'failed'], [256, 'not run']]);
  }, 60_000);
});
