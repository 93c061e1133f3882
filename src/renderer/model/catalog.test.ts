import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Registry } from '../../engine/registry.js';
import type { AnyNodeDef } from '../../engine/node.js';
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

  it('takes family titles and colours from the families\' declarations, with a neutral style for an unknown one', () => {
    expect(catalog.familyStyle('attention')).toEqual({ title: registry.family('attention')!.title, color: registry.family('attention')!.color });
    // Every family has nodes, so the palette's groups are the declared families in their order.
    expect(catalog.groups().map((g) => [g.family, g.style.title])).toEqual(registry.families().map((f) => [f.id, f.title]));
    const small = new Catalog(new Registry([{ ...registry.get('compare')!, family: 'lab' } as AnyNodeDef]));
    expect(small.familyStyle('lab')).toEqual({ title: 'Lab', color: '#6b7280' });
  });

  it('refuses a node whose family declares no title and colour', () => {
    const def = { ...registry.get('compare')!, family: 'nowhere' } as AnyNodeDef;
    expect(() => new Registry([def], registry.families())).toThrow('node type "compare" names family "nowhere", which is not registered (declare its familyDef)');
    expect(() => new Registry([], [registry.family('sink')!, registry.family('sink')!])).toThrow('family "sink" is registered twice');
  });
});
