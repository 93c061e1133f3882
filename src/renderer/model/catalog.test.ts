import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from './catalog.js';

const catalog = new Catalog(registry);

describe('palette catalog', () => {
  it('lists every registered node type, grouped by family', () => {
    const groups = catalog.groups();
    const types = new Set(groups.flatMap((g) => g.entries.map((e) => e.type)));
    expect([...types].sort()).toEqual(registry.types().sort());
    // Families come in pipeline order: sources first, sinks last.
    expect(groups[0]!.family).toBe('source');
    expect(groups.at(-1)!.family).toBe('sink');
  });

  it('offers each variant as its own entry', () => {
    const keys = catalog.entries().map((e) => e.key);
    for (const v of Object.keys(registry.get('attention')!.variants!)) expect(keys).toContain(`attention/${v}`);
  });

  it('searches titles, variants and summaries; every word must match', () => {
    const hits = catalog.groups('flash').flatMap((g) => g.entries.map((e) => e.key));
    expect(hits).toContain('attention/flash');
    expect(catalog.groups('synthetic workload sinks').flatMap((g) => g.entries.map((e) => e.type))).toContain('source.synthetic-qkv');
    expect(catalog.groups('no-such-node-anywhere')).toEqual([]);
  });
});
