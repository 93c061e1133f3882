import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { paramsJsonSchema } from '../../engine/catalog.js';
import { registry } from '../../nodes/index.js';
import { Catalog } from './catalog.js';
import { fieldsOf, paramIssues, parseNumber, rangeText, setPath, switchVariant } from './params.js';

const schema = paramsJsonSchema(
  z.object({
    n: z.number().int().min(1).max(64).default(8).describe('heads'),
    x: z.number().gt(0).optional(),
    mode: z.enum(['a', 'b']).default('a'),
    on: z.boolean().default(true),
    list: z.array(z.number()).optional(),
    nested: z.object({ k: z.number().default(1) }).default({ k: 1 }),
    either: z.union([z.number(), z.string()]).optional(),
    name: z.string().nullable().optional(),
  }),
);

describe('form fields from JSON Schema', () => {
  it('maps each zod type to a field kind with its range, default and description', () => {
    const f = Object.fromEntries(fieldsOf(schema).map((x) => [x.name, x]));
    expect(f.n).toMatchObject({ kind: 'integer', min: 1, max: 64, default: 8, description: 'heads', required: false });
    expect(rangeText(f.n!)).toBe('≥ 1, ≤ 64');
    expect(f.x).toMatchObject({ kind: 'number', min: 0, exclusiveMin: true });
    expect(rangeText(f.x!)).toBe('> 0');
    expect(f.mode).toMatchObject({ kind: 'enum', options: ['a', 'b'] });
    expect(f.on!.kind).toBe('boolean');
    expect(f.list).toMatchObject({ kind: 'array', items: { type: 'number' } });
    expect(f.nested!.kind).toBe('object');
    expect(f.nested!.fields!.map((s) => s.name)).toEqual(['k']);
    expect(f.either!.kind).toBe('json');
    expect(f.name).toMatchObject({ kind: 'string', nullable: true });
  });

  it('parses numbers with K/M shorthands', () => {
    expect(parseNumber('4K')).toBe(4096);
    expect(parseNumber(' 1m ')).toBe(1048576);
    expect(parseNumber('')).toBeUndefined();
    expect(parseNumber('1e-3')).toBe(0.001);
    expect(parseNumber('abc')).toBeNaN();
  });

  it('sets and removes nested paths without mutating', () => {
    const p = { a: 1, b: { c: 2 } };
    expect(setPath(p, ['b', 'c'], 3)).toEqual({ a: 1, b: { c: 3 } });
    expect(setPath(p, ['b', 'c'], undefined)).toEqual({ a: 1 });
    expect(setPath(p, ['a'], undefined)).toEqual({ b: { c: 2 } });
    expect(p).toEqual({ a: 1, b: { c: 2 } });
  });
});

describe('node params', () => {
  const catalog = new Catalog(registry);

  it('keeps the params that the new variant also has when switching', () => {
    const next = switchVariant(catalog, 'attention', { variant: 'flash', causal: false, blockSize: 64 }, 'naive');
    expect(next).toEqual({ variant: 'naive', causal: false });
    expect(switchVariant(catalog, 'attention', next, 'flash')).toEqual({ variant: 'flash', causal: false });
  });

  it('reports invalid params by path, from the node declaration', () => {
    const def = registry.get('source.synthetic-qkv')!;
    expect(paramIssues(def, { heads: 4 }).size).toBe(0);
    const issues = paramIssues(def, { heads: 0, seqLen: 'x' });
    expect([...issues.keys()].sort()).toEqual(['heads', 'seqLen']);
  });

  it('gives new nodes of variant types their variant', () => {
    expect(catalog.newParams('attention', 'flash')).toEqual({ variant: 'flash' });
    expect(catalog.newParams('attention')).toHaveProperty('variant');
    expect(catalog.newParams('compare')).toEqual({});
  });
});
