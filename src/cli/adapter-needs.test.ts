// `ctxlab validate --backend webgpu` checks each node's declared GPU kernel needs against this
// machine's adapter before anything runs; `run` then falls back exactly where validate said it
// would. On lavapipe (32 KiB of workgroup memory) head dims 512/512 need 32800 bytes: the flash
// node's WGSL kernel cannot run. Needs `npm run build:cli` and a WebGPU adapter.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qkvAttention } from '../lab/testdata/fixtures.js';
import { ctxlab } from './testing.js';

const pipeline = (headDim: number) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-'));
  const path = join(dir, 'p.json');
  writeFileSync(path, JSON.stringify(qkvAttention({ seqLen: 40, headDim })));
  return { dir, path };
};

describe('adapter needs before the run', () => {
  it('head dim 64: validate --backend webgpu warns of nothing', async () => {
    const r = await ctxlab(['validate', pipeline(64).path, '--backend', 'webgpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('warning');
  });

  it('head dim 512: validate names the flash node and why; run falls back there, with the same cause', async () => {
    const { dir, path } = pipeline(512);
    const v = await ctxlab(['validate', path, '--backend', 'webgpu']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/warning: nodes\[2\] \[flash\]: flash \(attention\): on this adapter WGSL fused attention will fall back to wasm fused attention: K\/V chunks of 8 keys at head dims 512\/512 in workgroup memory needs maxComputeWorkgroupStorageSize ≥ 32800; the adapter allows (\d+)/);
    expect(v.stdout.match(/warning/g)).toHaveLength(1);
    const r = await ctxlab(['run', path, '--backend', 'webgpu', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: nodes\[2\] \[flash\]: .*maxComputeWorkgroupStorageSize ≥ 32800/);
    const flash = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')).nodes.find((n: { nodeId: string }) => n.nodeId === 'flash');
    expect(flash.fallbacks).toEqual([expect.stringMatching(/^WGSL fused attention → wasm fused attention: the WGSL attention kernel needs 32800 bytes of workgroup memory for head dims 512\/512/)]);
  });
});
