import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from './catalog.js';
import { aliasesOf, matchQuality, rank, scoreEntry, type Searchable } from './search.js';

const entry = (title: string, more: Partial<Searchable> = {}): Searchable => ({ title, ids: [], aliases: [], context: [], text: '', ...more });

describe('match quality', () => {
  it('orders exact > prefix > word > word prefix > substring > fuzzy > none', () => {
    const q = (s: string) => matchQuality('rope', s, { fuzzy: true });
    const tiers = [q('RoPE'), q('RoPE scaling'), q('plain rope here'), q('two ropes'), q('LongRoPE'), q('r-o-p-e'), q('xyz')];
    for (let i = 1; i < tiers.length; i++) expect(tiers[i - 1]).toBeGreaterThan(tiers[i]!);
    expect(tiers.at(-1)).toBe(0);
    // Fuzzy only where asked for, and tighter spans score higher.
    expect(matchQuality('flsh', 'flash')).toBe(0);
    expect(matchQuality('flsh', 'flash', { fuzzy: true })).toBeGreaterThan(matchQuality('flsh', 'f l a s h and more', { fuzzy: true }));
  });

  it('weighs the title over ids, ids over aliases, aliases over context, context over the summary', () => {
    const s = (e: Searchable) => scoreEntry('mamba', e);
    const scores = [
      s(entry('Mamba')),
      s(entry('Selective scan', { ids: ['mamba'] })),
      s(entry('Selective scan', { aliases: ['Mamba'] })),
      s(entry('Conv', { context: ['Mamba'] })),
      s(entry('Conv', { text: 'as in Mamba' })),
    ];
    for (let i = 1; i < scores.length; i++) expect(scores[i - 1]).toBeGreaterThan(scores[i]!);
  });

  it('needs every word of a multi-word query to match somewhere; ties keep the given order', () => {
    const es = [entry('Alpha beta'), entry('Alpha', { text: 'gamma' }), entry('Alpha gamma')];
    expect(rank('alpha gamma', es, (e) => e)).toEqual([es[2], es[1]]);
    expect(rank('alpha', [es[1]!, es[0]!], (e) => e)[0]).toBe(es[1]);
  });

  it('derives aliases from reference short names, parentheses and acronyms', () => {
    expect(aliasesOf('YaRN', [{ title: 'YaRN: Efficient Context Window Extension of Large Language Models' }])).toContain('YaRN');
    expect(aliasesOf('Linear (Position Interpolation)')).toEqual(expect.arrayContaining(['Position Interpolation', 'PI']));
    expect(aliasesOf('Attention Free Transformer')).toContain('AFT');
    // No acronym from a phrase that holds one already.
    expect(aliasesOf('Dynamic NTK')).toEqual([]);
  });
});

describe('the node catalog, searched', () => {
  const catalog = new Catalog(registry);
  const first = (q: string) => catalog.search(q)[0]?.key;

  it('puts the node a user means first', () => {
    expect(first('rope')).toBe('position/rope');
    expect(first('save')).toBe('sink.npy');
    expect(first('mamba')).toBe('ssm.mamba-block');
    expect(first('yarn')).toBe('position/yarn');
    expect(first('pi')).toBe('position/linear');
    expect(first('ntk')).toBe('position/ntk');
    expect(first('h2o')).toBe('kv-cache/h2o');
    expect(first('kivi')).toBe('kv-cache/kivi');
    expect(first('flash')).toBe('attention/flash');
    expect(first('flash attention')).toBe('attention/flash');
    expect(first('aft')).toBe('ssm.aft');
  });

  it('groups the matches with the best one first, and keeps catalog order without a query', () => {
    expect(catalog.groups('rope')[0]!.entries[0]!.key).toBe('position/rope');
    expect(catalog.groups('save')[0]!.family).toBe('sink');
    expect(catalog.groups()[0]!.family).toBe('source');
  });
});
