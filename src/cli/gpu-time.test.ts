// `ctxlab run --backend webgpu`: the table has a 'GPU ms' column (timestamp queries) beside wall ms,
// filled on the node that ran the WGSL kernel, and profile.json has gpuMs. Needs `npm run build:cli`.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qkvAttention } from '../lab/testdata/fixtures.js';
import { ctxlab } from './testing.js';

describe('ctxlab run: GPU ms', () => {
  it('webgpu: a GPU ms column, filled for the fused kernel only; profile.json gpuMs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ctxlab-'));
    const doc = join(out, 'p.json');
    writeFileSync(doc, JSON.stringify(qkvAttention({ seqLen: 70 })));
    const r = await ctxlab(['run', doc, '--backend', 'webgpu', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend: webgpu/);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('node '))!;
    expect(header).toMatch(/ ms +GPU ms +peak MiB/);
    // The cell under the right-aligned 'GPU ms' header.
    const col = (row: string) => row.slice(header.indexOf(' GPU ms'), header.indexOf('GPU ms') + 6).trim();
    expect(Number(col(lines.find((l) => l.startsWith('flash '))!))).toBeGreaterThan(0);
    expect(col(lines.find((l) => l.startsWith('naive '))!)).toBe(''); // no kernel of its own: an empty cell
    const profile = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
    const flash = profile.nodes.find((n: { nodeId: string }) => n.nodeId === 'flash');
    expect(flash.gpuMs).toBeGreaterThan(0);
    expect(flash.gpuMs).toBeLessThanOrEqual(flash.wallMs);
  });
});
