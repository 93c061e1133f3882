// The engine service as the editor's worker drives it: backend requests that overlap, and the
// figures of a refusal.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { nodeBackendSetup } from '../../engine/node/setup.js';
import { EngineService } from '../../engine/run/service.js';

const service = () =>
  new EngineService(registry, {
    setup: nodeBackendSetup('test'),
    readFile: async () => new Uint8Array(),
    resolvePath: (_b, p) => p,
    now: () => performance.now(),
  });

const doc = JSON.parse(readFileSync(new URL('../../../pipelines/flash-vs-naive.json', import.meta.url), 'utf8'));

describe('EngineService', () => {
  it('serves overlapping requests for a backend that is still starting (no spurious fallback)', async () => {
    const s = service();
    // Selecting wasm and pressing Run at once: both ask for wasm before it has loaded.
    const [a, b] = await Promise.all([s.useBackend('wasm'), s.useBackend('wasm')]);
    expect(a).toMatchObject({ requested: 'wasm', name: 'wasm' });
    expect(a.fallbackReason).toBeUndefined();
    expect(b).toEqual(a);
    // Switching back and forth while each is starting ends on the last one asked for.
    const [, , last] = await Promise.all([s.useBackend('cpu'), s.useBackend('wasm'), s.useBackend('cpu')]);
    expect(last).toMatchObject({ requested: 'cpu', name: 'cpu' });
  });

  it('says which node a refused run stopped at, with its predicted peak and the budget', async () => {
    const r = await service().run(doc, { backend: 'cpu', memoryBudget: 1024 * 1024 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.stage).toBe('refused');
    expect(r.refusal?.budgetBytes).toBe(1024 * 1024);
    expect(r.refusal?.predictedBytes).toBeGreaterThan(1024 * 1024);
    expect(r.issues[0]!.nodeId).toBe(r.refusal?.nodeId);
  });
});
