import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaText, SCHEMA_PATH } from '../../../scripts/gen-schema.js';
import { registry } from '../../nodes/index.js';
import { compile } from '../../engine/compile/compile.js';
import { qkvAttention } from '../testdata/fixtures.js';
import { migrate } from '../../engine/schema/migrations.js';
import { applyOverrides, parseOverride } from '../../engine/schema/overrides.js';

describe('pipeline JSON Schema', () => {
  it('schema/pipeline.schema.json is current (run `npm run schema` when this fails)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(schemaText());
  });

  it('lists every node type with its params', () => {
    const s = JSON.parse(schemaText());
    const types = s.properties.nodes.items.oneOf.map((o: { properties: { type: { const: string } } }) => o.properties.type.const);
    expect(types.sort()).toEqual(registry.types().sort());
  });
});

describe('migrations', () => {
  it('leaves current documents and non-documents untouched', () => {
    const doc = qkvAttention();
    expect(migrate(doc)).toEqual({ doc, from: 1, applied: [] });
    expect(migrate(42).doc).toBe(42);
  });
});

describe('--set overrides', () => {
  it('parses JSON values and dotted params', () => {
    expect(parseOverride('qkv.seqLen=4096')).toEqual({ node: 'qkv', param: 'seqLen', value: 4096 });
    expect(parseOverride('c.budget.question=0.5')).toEqual({ node: 'c', param: 'budget.question', value: 0.5 });
    expect(parseOverride('a.variant=flash')).toEqual({ node: 'a', param: 'variant', value: 'flash' });
    expect(() => parseOverride('seqLen=3')).toThrow(/node.param=value/);
    const doc = applyOverrides(qkvAttention(), [parseOverride('qkv.seqLen=64')]) as ReturnType<typeof qkvAttention>;
    expect(doc.nodes[0]!.params!.seqLen).toBe(64);
    expect(() => applyOverrides(qkvAttention(), [parseOverride('nope.x=1')])).toThrow(/no node "nope"/);
  });
});

// The loader never throws and never hangs on hostile input: every failure is a list of issues with paths.
describe('loader fuzz', () => {
  const types = registry.types();
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const nodeArb = fc.record(
    {
      id: fc.oneof(fc.constantFrom('qkv', 'naive', 'flash', 'cmp', 'x'), fc.string()),
      type: fc.oneof(fc.constantFrom(...types), fc.string()),
      params: fc.oneof(fc.dictionary(fc.constantFrom('variant', 'seqLen', 'heads', 'headDim', 'blockSize', 'causal', 'path', 'name'), anyJson), anyJson),
      position: fc.oneof(fc.record({ x: fc.double(), y: fc.double() }), anyJson),
    },
    { requiredKeys: [] },
  );
  const portRef = fc.oneof(
    fc.tuple(fc.constantFrom('qkv', 'naive', 'flash', 'cmp', 'x'), fc.constantFrom('q', 'k', 'v', 'out', 'a', 'b', 'metrics', 'in')).map(([n, p]) => `${n}.${p}`),
    fc.string(),
  );
  const docArb = fc.record(
    {
      format: fc.oneof(fc.constant('context-lab/pipeline'), fc.string()),
      version: fc.oneof(fc.constantFrom(0, 1, 2), anyJson),
      name: fc.oneof(fc.string(), anyJson),
      nodes: fc.oneof(fc.array(nodeArb, { maxLength: 6 }), anyJson),
      edges: fc.oneof(fc.array(fc.record({ from: portRef, to: portRef }, { requiredKeys: [] }), { maxLength: 10 }), anyJson),
      links: anyJson,
      checks: anyJson,
    },
    { requiredKeys: [] },
  );
  // Mutations of a valid document: replace one value somewhere with arbitrary JSON.
  const mutated = fc.tuple(fc.nat(), anyJson, fc.nat()).map(([pick, value, seed]) => {
    const doc = JSON.parse(JSON.stringify(qkvAttention({ seqLen: 16 + (seed % 64) }))) as Record<string, unknown>;
    const holders: [Record<string, unknown> | unknown[], string | number][] = [];
    const walk = (o: unknown) => {
      if (Array.isArray(o)) o.forEach((v, i) => (holders.push([o, i]), walk(v)));
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) (holders.push([o as Record<string, unknown>, k]), walk(v));
    };
    walk(doc);
    const [holder, key] = holders[pick % holders.length]!;
    (holder as Record<string | number, unknown>)[key] = value;
    return doc;
  });

  function check(doc: unknown) {
    const r = compile(doc, registry);
    if (!r.ok) {
      expect(r.issues.length).toBeGreaterThan(0);
      for (const i of r.issues) {
        expect(typeof i.path).toBe('string');
        expect(i.path.length).toBeGreaterThan(0);
        expect(typeof i.message).toBe('string');
      }
    }
  }

  it('gives only validation errors with paths on 1,000 random documents', () => {
    fc.assert(fc.property(docArb, check), { numRuns: Number(process.env.FUZZ_RUNS ?? 1000), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261126 });
  });

  it('gives only validation errors with paths on 1,000 mutated valid documents', () => {
    fc.assert(fc.property(mutated, check), { numRuns: Number(process.env.FUZZ_RUNS ?? 1000), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261126 });
  });
});

describe('--set refuses prototype segments', () => {
  it('in the param path, from the command line and from callers that build overrides', () => {
    for (const text of ['qkv.__proto__.x=1', 'qkv.constructor.prototype.x=1', 'qkv.a.prototype=1', 'qkv.constructor=1', 'qkv.a..b=1'])
      expect(() => parseOverride(text), text).toThrow(/cannot be a param name|empty segment/);
    expect(() => applyOverrides(qkvAttention(), [{ node: 'qkv', param: '__proto__.polluted', value: 1 }])).toThrow(/"__proto__" cannot be a param name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A JSON value holding a "__proto__" key is data, not a prototype.
    const doc = applyOverrides(qkvAttention(), [parseOverride('qkv.extra={"__proto__":{"polluted":1}}')]) as { nodes: { params: Record<string, unknown> }[] };
    expect(Object.keys(doc.nodes[0]!.params.extra as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Walking into an inherited member replaces it with an own object instead of writing into it.
    const walked = applyOverrides(qkvAttention(), [parseOverride('qkv.toString.x=1')]) as ReturnType<typeof qkvAttention>;
    expect((walked.nodes[0]!.params as Record<string, unknown>).toString).toEqual({ x: 1 });
    expect(Object.prototype.toString).not.toHaveProperty('x');
  });
});

describe('documents nested too deeply', () => {
  it('are refused by compile with the JSON path, also when --set overrides apply to them', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const doc = qkvAttention();
    (doc.nodes[0]!.params as Record<string, unknown>).x = deep;
    const applied = applyOverrides(doc, [parseOverride('qkv.seqLen=16')]);
    const r = compile(applied, registry);
    expect(!r.ok && r.issues).toEqual([{ path: `nodes[0].params.x${'[0]'.repeat(60)}`, message: expect.stringMatching(/nested deeper than 64 levels/) }]);
  });
});
