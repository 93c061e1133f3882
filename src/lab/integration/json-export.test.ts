import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { compile, validateDocument } from '../../engine/compile/compile.js';
import { migrations } from '../../engine/schema/migrations.js';
import { PIPELINE_VERSION } from '../../engine/schema/pipeline.js';
import { exportPipelineJson, importPipelineJson, PipelineJsonError } from '../../engine/export/json.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const pipelineFiles = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort();

/** `sub` is contained in `whole`: every field `sub` has, `whole` has with an equal value (it may add defaults). */
function expectContained(sub: unknown, whole: unknown, path = '$'): void {
  if (sub !== null && typeof sub === 'object' && !Array.isArray(sub)) {
    expect(whole !== null && typeof whole === 'object' && !Array.isArray(whole), path).toBe(true);
    for (const [k, v] of Object.entries(sub)) {
      expect(Object.hasOwn(whole as object, k), `${path}.${k} kept`).toBe(true);
      expectContained(v, (whole as Record<string, unknown>)[k], `${path}.${k}`);
    }
  } else if (Array.isArray(sub)) {
    expect(Array.isArray(whole) && whole.length === sub.length, `${path} length`).toBe(true);
    sub.forEach((v, i) => expectContained(v, (whole as unknown[])[i], `${path}[${i}]`));
  } else expect(whole, path).toStrictEqual(sub);
}

/** A document written by a newer app: fields this version does not know, at every level. */
function fromTheFuture() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'future',
    description: 'unknown fields at every level',
    'x-editor': { zoom: 1.25, viewport: [0, -40.5], theme: null },
    nodes: [
      {
        id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 16, headDim: 8, seed: 3, futureParam: { a: [1, 2] } },
        position: { x: 10.25, y: -3, z: 7 }, label: 'Q/K/V', notes: 'multi\nline "notes" ✓', color: '#ff0000', collapsed: true,
      },
      { id: 'attn', type: 'attention', params: { variant: 'flash', blockSize: 16 }, position: { x: 300, y: 20 }, label: '' },
    ],
    edges: [
      { from: 'qkv.q', to: 'attn.q', style: 'dashed' }, { from: 'qkv.k', to: 'attn.k' }, { from: 'qkv.v', to: 'attn.v', waypoints: [{ x: 1, y: 2 }] },
    ],
    groups: [{ id: 'g1', nodes: ['qkv', 'attn'], title: 'a group' }],
  };
}

describe('JSON export/import', () => {
  it('keeps ids, params, positions, labels, notes and unknown future fields, and is a fixed point', () => {
    const docs: [string, unknown][] = [['future', fromTheFuture()], ...pipelineFiles.map((f): [string, unknown] => [f, JSON.parse(readFileSync(join(ROOT, 'pipelines', f), 'utf8'))])];
    for (const [name, raw] of docs) {
      const original = structuredClone(raw);
      const text = exportPipelineJson(raw);
      expect(raw, `${name}: the input is not mutated`).toEqual(original);
      expectContained(raw, JSON.parse(text), name);
      // import → export → import gives the same document; export → import → export the same text.
      const again = importPipelineJson(text);
      expect(again.doc).toEqual(importPipelineJson(raw).doc);
      expect(exportPipelineJson(again.doc)).toBe(text);
      expect(exportPipelineJson(text)).toBe(text);
      // The compiler sees the same document either way, and keeps the unknown fields in plan.doc.
      const a = compile(raw, registry);
      const b = compile(JSON.parse(text), registry);
      expect(a.ok && b.ok, name).toBe(true);
      if (a.ok && b.ok) {
        expect(b.plan.doc).toEqual(a.plan.doc);
        expect(b.plan.steps.map((s) => [s.id, s.params])).toEqual(a.plan.steps.map((s) => [s.id, s.params]));
      }
      const v = validateDocument(JSON.parse(text), registry);
      expect(v.ok && exportPipelineJson(v.doc), name).toBe(text);
    }
  });

  it('writes unknown fields back after the known ones, in their own order', () => {
    const text = exportPipelineJson(fromTheFuture());
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(['format', 'version', 'name', 'description', 'nodes', 'edges', 'x-editor', 'groups']);
    expect(Object.keys(doc.nodes[0])).toEqual(['id', 'type', 'params', 'position', 'label', 'notes', 'color', 'collapsed']);
    expect(doc.nodes[0].position).toEqual({ x: 10.25, y: -3, z: 7 });
    expect(doc.edges[0]).toEqual({ from: 'qkv.q', to: 'attn.q', style: 'dashed' });
  });

  it('round-trips random documents with arbitrary unknown fields', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['id', 'type', 'params', 'position', 'label', 'notes', 'from', 'to', 'format', 'version', 'name', 'description', 'nodes', 'edges', 'checks', '__proto__'].includes(k));
    const extra = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
    const id = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/);
    const num = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0));
    const node = fc.tuple(id, fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.option(fc.record({ x: num, y: num })), fc.option(fc.string()), fc.option(fc.string()), extra)
      .map(([nid, params, position, label, notes, more]) => ({
        ...more, id: nid, type: 'attention', params, ...(position ? { position } : {}), ...(label !== null ? { label } : {}), ...(notes !== null ? { notes } : {}),
      }));
    const doc = fc.tuple(fc.array(node, { maxLength: 5 }), fc.string(), extra).map(([nodes, name, more]) => ({
      ...more, format: 'context-lab/pipeline', version: 1, name, nodes,
      edges: nodes.length > 1 ? [{ from: `${nodes[0]!.id}.out`, to: `${nodes[1]!.id}.q` }] : [],
    }));
    fc.assert(
      fc.property(doc, (raw) => {
        const text = exportPipelineJson(raw);
        expectContained(JSON.parse(JSON.stringify(raw)), JSON.parse(text));
        expect(exportPipelineJson(text)).toBe(text);
      }),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('loads older versions through the migration chain, keeping what they held', () => {
    expect(Object.keys(migrations).map(Number).sort()).toEqual(Array.from({ length: PIPELINE_VERSION }, (_, v) => v));
    const v0 = JSON.parse(readFileSync(join(ROOT, 'src/engine/testdata/v0-draft.json'), 'utf8'));
    v0.nodes[0].color = 'teal';
    v0.nodes[0].label = 'queries';
    v0.workspace = { zoom: 2 };
    const r = importPipelineJson(v0);
    expect(r.migratedFrom).toBe(0);
    expect(r.doc.version).toBe(PIPELINE_VERSION);
    expect(r.doc.nodes[0]).toEqual({ id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 32, headDim: 8 }, position: { x: 10, y: 20 }, color: 'teal', label: 'queries' });
    expect(r.doc.edges).toEqual([{ from: 'qkv.q', to: 'attn.q' }, { from: 'qkv.k', to: 'attn.k' }, { from: 'qkv.v', to: 'attn.v' }]);
    expect((r.doc as Record<string, unknown>).workspace).toEqual({ zoom: 2 });
    const text = exportPipelineJson(v0);
    expect(importPipelineJson(text).migratedFrom).toBeUndefined();
    expect(importPipelineJson(text).doc).toEqual(r.doc);
    expect(compile(v0, registry).ok).toBe(true);
  });

  it('refuses what is not a pipeline, with paths', () => {
    expect(() => importPipelineJson('{ nope')).toThrow(/\$: not valid JSON/);
    expect(() => importPipelineJson({ format: 'context-lab/pipeline', version: PIPELINE_VERSION + 1, nodes: [] })).toThrow(/version/);
    try {
      importPipelineJson({ format: 'context-lab/pipeline', version: 1, nodes: [{ id: '1bad', type: 'attention' }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PipelineJsonError);
      expect((err as PipelineJsonError).issues[0]!.path).toBe('nodes[0].id');
    }
  });
});
