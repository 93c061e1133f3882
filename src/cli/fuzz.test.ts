// Fuzz suite (issue 9): hostile pipeline documents and malformed .npy files never hurt the user.
//  - 2,400 mutated documents (prototype keys, control characters, huge strings, deep nesting, wrong
//    types, unknown node types, bad edges) through the engine in-process: compile never throws, every
//    issue names a JSON path (and a node of the document when it names one) and prints as one line,
//    the TypeScript export of every valid one parses and holds no raw control characters, and no
//    prototype changes.
//  - 500 --set paths with hostile segments: refused, or applied as own keys.
//  - 120 valid documents with hostile ids, sink names and strings are run and written: outputs land
//    in --out only, under their own names.
//  - 240 malformed .npy files: refused by validation or by the run, naming the node and the file.
//  - Paths outside the pipeline's folder (absolute, ../, a symlink, /dev/zero, /proc): refused, never read.
//  - A sample of all of these through the built CLI: exit 0/1/2, one line per issue, no hang, no
//    terminal control characters, nothing written outside --out.
// Seeds are fixed so a failure reproduces; FUZZ_SEED=<n> explores others.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { transformSync } from 'esbuild';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../nodes/index.js';
import { writeOutputs, metricsOf } from '../lab/api.js';
import { compile, formatIssue, type CompileIssue } from '../engine/compile/compile.js';
import { prepareDocument } from '../engine/compile/prepare.js';
import { decodeNpy, encodeNpy } from '../engine/io/npy.js';
import { f32 } from '../engine/tensor.js';
import { readFileHead } from '../engine/node/files.js';
import { nodeExecEnv } from '../engine/node/host.js';
import { executePlan, type ExecEnv } from '../engine/run/runtime.js';
import { evaluateChecks } from '../engine/run/checks.js';
import { applyOverrides } from '../engine/schema/overrides.js';
import { exportTypeScript } from '../engine/export/typescript.js';
import { issueLines } from './run.js';
import { ctxlabWithin } from './testing.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Doc = Record<string, any>;

// ---- hostile values -------------------------------------------------------------------------

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'isPrototypeOf', 'toString', 'valueOf', 'propertyIsEnumerable', '__defineGetter__'];
/** Proto keys that are also valid node ids (the id pattern allows them). */
const PROTO_IDS = PROTO_KEYS.filter((k) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k));
const NASTY = [
  '', ' ', '.', '..', 'a.b', 'a..b', 'nodes[0]', '%s%n', '😀', '\u0000', '\u001b[2J\u001b]0;x\u0007', '\n  ✓ forged', '\r', '\u2028', '\u2029',
  '\u202e', '\ufeff', '\ud800', "'); process.exit(9) //", '${process.exit(9)}', '*/ process.exit(9) /*', '`', '\\', 'x'.repeat(300),
];
const hostileString = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...PROTO_KEYS, ...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.constantFrom(...PROTO_KEYS)).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.integer({ min: 50_000, max: 300_000 }).map((n) => 'A'.repeat(n)) },
);
const hostileKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS) }, { weight: 2, arbitrary: hostileString });

/** An object with these own entries: `__proto__` becomes an own key, as JSON.parse makes it. */
function obj(entries: [string, unknown][]): Doc {
  const o: Doc = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** `levels` nested objects or arrays: far past the load limit, and past what recursive code survives. */
function nest(levels: number, arrays: boolean, key: string): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = arrays ? [v] : obj([[key, v]]);
  return v;
}
const deep = fc.tuple(fc.integer({ min: 65, max: 20_000 }), fc.boolean(), hostileKey).map(([n, a, k]) => nest(n, a, k));

const scalar = fc.oneof(
  hostileString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-1, 0, 0.5, 1e308, -1e308, 2 ** 53 + 2, 5e-324, 4096, 131_072, 2 ** 31, 1e21),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie('tree')), { maxLength: 4 }).map(obj),
  ),
}));
const hostileValue = fc.oneof({ weight: 6, arbitrary: tree }, { weight: 1, arbitrary: deep });

// ---- documents --------------------------------------------------------------------------------

/** A small pipeline that runs in milliseconds: two attentions, two compares, two sinks. */
function tiny(): Doc {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'tiny',
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 16, headDim: 4 } },
      { id: 'naive', type: 'attention', params: { variant: 'naive' } },
      { id: 'flash', type: 'attention', params: { variant: 'flash', blockSize: 16 } },
      { id: 'cmp1', type: 'compare' },
      { id: 'cmp2', type: 'compare' },
      { id: 'save1', type: 'sink.npy', params: { name: 'a' } },
      { id: 'save2', type: 'sink.npy', params: { name: 'b' } },
    ],
    edges: [
      ...['naive', 'flash'].flatMap((a) => ['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `${a}.${p}` }))),
      { from: 'flash.out', to: 'cmp1.a' }, { from: 'naive.out', to: 'cmp1.b' },
      { from: 'naive.out', to: 'cmp2.a' }, { from: 'flash.out', to: 'cmp2.b' },
      { from: 'naive.out', to: 'save1.in' }, { from: 'flash.out', to: 'save2.in' },
    ],
    checks: [{ node: 'cmp1', metric: 'maxAbs', lt: 1e-3, why: 'flash is exact' }],
  };
}

const TEMPLATES: Doc[] = [
  tiny(),
  ...readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(ROOT, 'pipelines', f), 'utf8'))),
];

/** Every location in a document (path of keys from the root), containers and leaves. */
function locations(doc: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (path.length > 12) return;
    if (path.length) out.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) walk((v as Doc)[k], [...path, k]);
  };
  walk(doc, []);
  return out;
}
const at = (doc: Doc, path: (string | number)[]) => path.reduce<any>((v, k) => v?.[k], doc);
const setOwn = (o: Doc, k: string | number, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
const nodesOf = (doc: Doc): Doc[] => (Array.isArray(doc.nodes) ? doc.nodes.filter((n: unknown) => n && typeof n === 'object') : []);
const idsOf = (doc: Doc): string[] => nodesOf(doc).map((n) => n.id).filter((id): id is string => typeof id === 'string');

type Mutation = (doc: Doc) => void;
const portName = fc.oneof(fc.constantFrom('q', 'k', 'v', 'out', 'in', 'a', 'b', 'metrics', 'id', ...PROTO_IDS), hostileString);
const MUTATIONS: fc.Arbitrary<Mutation>[] = [
  // Any location replaced by a hostile value of any type (wrong types, deep nesting, huge strings).
  fc.tuple(fc.nat(), hostileValue).map(([i, v]) => (doc: Doc) => {
    const locs = locations(doc);
    if (!locs.length) return;
    const path = locs[i % locs.length]!;
    const parent = at(doc, path.slice(0, -1));
    if (parent && typeof parent === 'object') setOwn(parent, path.at(-1)!, v);
  }),
  // A new key (prototype keys included) on any object.
  fc.tuple(fc.nat(), hostileKey, hostileValue).map(([i, k, v]) => (doc: Doc) => {
    const objs = [[], ...locations(doc)].filter((p) => { const o = at(doc, p); return o && typeof o === 'object' && !Array.isArray(o); });
    setOwn(at(doc, objs[i % objs.length]!), k, v);
  }),
  // A node renamed, with its edges and checks.
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...PROTO_IDS), hostileString)).map(([i, id]) => (doc: Doc) => {
    const nodes = nodesOf(doc);
    if (!nodes.length) return;
    const node = nodes[i % nodes.length]!;
    const old = node.id;
    node.id = id;
    for (const e of Array.isArray(doc.edges) ? doc.edges : [])
      for (const end of ['from', 'to']) if (typeof e?.[end] === 'string' && e[end].startsWith(`${old}.`)) e[end] = `${id}${e[end].slice(String(old).length)}`;
    for (const c of Array.isArray(doc.checks) ? doc.checks : []) if (c?.node === old) c.node = id;
  }),
  // Unknown or hostile node types.
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...registry.types()), hostileString)).map(([i, type]) => (doc: Doc) => {
    const nodes = nodesOf(doc);
    if (nodes.length) nodes[i % nodes.length]!.type = type;
  }),
  // Bad edges: unknown nodes, unknown or prototype ports, malformed references.
  fc.tuple(fc.nat(), portName, fc.nat(), portName, fc.boolean(), hostileString).map(([a, pa, b, pb, raw, s]) => (doc: Doc) => {
    const ids = idsOf(doc);
    if (!Array.isArray(doc.edges)) doc.edges = [];
    doc.edges.push(raw || !ids.length ? { from: s, to: `${ids[b % Math.max(1, ids.length)] ?? s}.${pb}` } : { from: `${ids[a % ids.length]}.${pa}`, to: `${ids[b % ids.length]}.${pb}` });
  }),
  // Nodes and edges removed.
  fc.tuple(fc.nat(), fc.boolean()).map(([i, node]) => (doc: Doc) => {
    const list = node ? doc.nodes : doc.edges;
    if (Array.isArray(list) && list.length) list.splice(i % list.length, 1);
  }),
  // Hostile text where people write text: name, description, labels, notes, a check's why.
  fc.tuple(fc.nat(), fc.constantFrom('name', 'description', 'label', 'notes', 'why'), hostileString).map(([i, slot, s]) => (doc: Doc) => {
    if (slot === 'name' || slot === 'description') doc[slot] = s;
    else if (slot === 'why') {
      if (!Array.isArray(doc.checks)) doc.checks = [];
      doc.checks.push({ node: idsOf(doc)[i % Math.max(1, idsOf(doc).length)] ?? 'x', metric: 'maxAbs', lt: 1, why: s });
    } else {
      const nodes = nodesOf(doc);
      if (nodes.length) nodes[i % nodes.length]![slot] = s;
    }
  }),
  // Paths in params that point outside the pipeline's folder (only compiled here, never read).
  fc.tuple(fc.nat(), fc.constantFrom('/etc/passwd', '../../secret.txt', '/dev/zero', '/proc/self/environ', 'C:\\x', '')).map(([i, p]) => (doc: Doc) => {
    const nodes = nodesOf(doc);
    if (!nodes.length) return;
    const n = nodes[i % nodes.length]!;
    n.type = i % 2 ? 'source.npy' : 'source.text';
    n.params = { path: p };
  }),
];
const mutatedDoc = fc
  .tuple(fc.nat({ max: TEMPLATES.length * 3 - 1 }), fc.array(fc.oneof(...MUTATIONS), { minLength: 1, maxLength: 4 }))
  // The tiny template three times as often: its documents are the ones worth running.
  .map(([t, muts]) => {
    const doc = structuredClone(TEMPLATES[t < TEMPLATES.length * 2 ? 0 : t - TEMPLATES.length * 2]!);
    for (const m of muts) m(doc);
    return doc;
  });

// ---- assertions -------------------------------------------------------------------------------

const RAW_TERMINAL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const RAW_SOURCE = /[\r\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
/** A JSON path into the document: `$`, or a top-level field (a name or a quoted key), then `.key`, `["key"]` or `[i]` steps. */
const JSON_PATH = /^(\$|[A-Za-z_$][\w$-]*|\["(?:[^"\\]|\\.)*"\])(\.[^.[\s]+|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*$/;

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const snapshot = () => PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join());

function checkIssues(doc: Doc, issues: CompileIssue[]): void {
  expect(issues.length).toBeGreaterThan(0);
  const ids = new Set(idsOf(doc));
  for (const i of issues) {
    expect(i.path, formatIssue(i).slice(0, 300)).toMatch(JSON_PATH);
    expect(typeof i.message === 'string' && i.message.length > 0).toBe(true);
    // A node named by an issue is one of the document's, unless the issue is that a check or edge names a missing one.
    if (i.nodeId !== undefined && !/^(checks|edges)/.test(i.path)) expect(ids.has(i.nodeId), `issue names node "${i.nodeId}" that the document does not have`).toBe(true);
  }
  // As the CLI prints them: one line per issue, nothing a terminal would act on.
  const printed = issueLines('p.json', issues);
  expect(printed.split('\n')).toHaveLength(issues.length);
  expect(printed).not.toMatch(RAW_TERMINAL);
}

describe('fuzz: hostile pipeline documents, in-process', () => {
  it('2,400 mutated documents: issues with paths, valid ones export to code that parses, no prototype changes', () => {
    const before = snapshot();
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(mutatedDoc, (doc) => {
        const r = compile(doc, registry);
        if (!r.ok) {
          invalid++;
          checkIssues(doc, r.issues);
        } else {
          valid++;
          const code = exportTypeScript(doc, { registry });
          expect(code).not.toMatch(RAW_SOURCE);
          transformSync(code, { loader: 'ts', format: 'esm' }); // throws on a syntax error
        }
        expect(snapshot()).toEqual(before);
        expect(({} as Doc).polluted).toBeUndefined();
      }),
      { numRuns: 2400, seed: SEED },
    );
    // The corpus exercises both outcomes.
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(1000);
  }, 120_000);

  it('500 --set paths with hostile segments: refused or applied as own keys, never a prototype change', () => {
    const before = snapshot();
    const segment = fc.oneof(fc.constantFrom(...PROTO_KEYS, '', 'budget', 'seqLen'), hostileString.filter((s) => s.length < 100));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), tree, (parts, value) => {
        const param = parts.join('.');
        let doc: Doc | undefined;
        try {
          doc = applyOverrides(tiny(), [{ node: 'qkv', param, value }]) as Doc;
        } catch (err) {
          expect((err as Error).message, param).toMatch(/cannot be a param name|empty segment/);
        }
        if (doc) {
          // Applied: the value sits at the path, as own properties.
          const segs = param.split('.');
          const leaf = segs.slice(0, -1).reduce<Doc>((o, k) => (expect(Object.hasOwn(o, k), param).toBe(true), o[k]), doc.nodes[0].params);
          expect(Object.hasOwn(leaf, segs.at(-1)!), param).toBe(true);
          expect(leaf[segs.at(-1)!]).toBe(value);
        }
        expect(snapshot()).toEqual(before);
      }),
      { numRuns: 500, seed: SEED },
    );
  });
});

// ---- valid documents with hostile names, run and written ---------------------------------------

const SINK_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '..', '.', 'metrics', 'profile', 'a', '-'];
const runnableDoc = fc
  .record({
    ids: fc.shuffledSubarray([...PROTO_IDS, 'qkv', 'naive', 'flash', 'cmp1', 'cmp2', 'save1', 'save2', 'x-y', '_'], { minLength: 7, maxLength: 7 }),
    sinks: fc.shuffledSubarray(SINK_NAMES, { minLength: 2, maxLength: 2 }),
    name: hostileString,
    labels: fc.array(fc.option(hostileString), { minLength: 7, maxLength: 7 }),
    extra: fc.array(fc.tuple(fc.nat(6), hostileKey, tree), { maxLength: 3 }),
    why: hostileString,
  })
  .map(({ ids, sinks, name, labels, extra, why }) => {
    const doc = tiny();
    const rename = new Map(doc.nodes.map((n: Doc, i: number) => [n.id, ids[i]!]));
    const ref = (r: string) => `${rename.get(r.split('.')[0]!)}.${r.split('.')[1]}`;
    doc.name = name;
    doc.nodes.forEach((n: Doc, i: number) => {
      n.id = rename.get(n.id);
      if (labels[i] !== null) n.label = labels[i];
      if (n.type === 'sink.npy') n.params.name = sinks[i - 5];
    });
    doc.edges = doc.edges.map((e: Doc) => ({ from: ref(e.from), to: ref(e.to) }));
    doc.checks = [{ node: rename.get('cmp1'), metric: 'maxAbs', lt: 1e-3, why }, { node: rename.get('cmp2'), metric: 'maxAbs', lt: 1e-3 }];
    // Unknown fields (kept, warned about) on nodes and in params.
    for (const [i, k, v] of extra) setOwn(i % 2 ? doc.nodes[i]! : doc.nodes[i]!.params ?? (doc.nodes[i]!.params = {}), k, v);
    return { doc, ids: doc.nodes.map((n: Doc) => n.id as string), sinks };
  });

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

describe('fuzz: runs', () => {
  let env: ExecEnv;
  const reads: string[] = [];
  beforeAll(async () => {
    const base = await nodeExecEnv('cpu', 'fuzz');
    // Every file a run manages to read, to check it lies inside the pipeline's folder.
    env = { ...base, readFile: (async (...args: Parameters<ExecEnv['readFile']>) => {
      const bytes = await (base.readFile as (...a: unknown[]) => Promise<Uint8Array>)(...args);
      reads.push(resolve(String(args[1] ?? '.'), String(args[0])));
      return bytes;
    }) as ExecEnv['readFile'] };
  });

  it('120 valid documents with prototype-key ids and sink names run, and write only inside --out', async () => {
    const before = snapshot();
    const root = join(tmp, 'runs');
    mkdirSync(root);
    const cases = fc.sample(runnableDoc, { numRuns: 120, seed: SEED });
    for (const [i, { doc, ids, sinks }] of cases.entries()) {
      const r = compile(doc, registry, { baseDir: root });
      expect(r.ok, JSON.stringify(!r.ok && r.issues).slice(0, 500)).toBe(true);
      if (!r.ok) continue;
      const run = await executePlan(r.plan, env);
      expect(run.errors).toEqual([]);
      const metrics = metricsOf(run.outputs);
      // The two compares' metrics are there under their ids, prototype keys included.
      expect(Object.keys(metrics).sort()).toEqual([ids[3], ids[4]].sort());
      const checks = evaluateChecks(r.plan.doc.checks, run.outputs, run.profile.nodes);
      expect(checks.map((c) => c.ok)).toEqual([true, true]);
      const out = join(root, `out-${i}`);
      const files = await writeOutputs({ artifacts: run.artifacts, profile: run.profile, metrics }, out);
      expect(files.map((f) => relative(out, f)).sort()).toEqual([...sinks.map((s) => `${s}.npy`), 'metrics.json', 'profile.json'].sort());
      expect(snapshot()).toEqual(before);
    }
    // Nothing but the output folders was written, and nothing was read.
    expect(filesUnder(root).filter((f) => !/^out-\d+\//.test(f))).toEqual([]);
    expect(reads.filter((r) => r.startsWith(root))).toEqual([]);
  }, 120_000);

  // ---- malformed .npy ---------------------------------------------------------------------------

  it('240 malformed .npy files: refused at validation or by the run, naming the node and the file', async () => {
    const root = join(tmp, 'npy');
    mkdirSync(root);
    const files = fc.sample(malformedNpy, { numRuns: 240, seed: SEED });
    let atValidation = 0;
    for (const [i, { bytes, defect }] of files.entries()) {
      const name = `m${i}.npy`;
      writeFileSync(join(root, name), bytes);
      const what = `${name} (${defect})`;
      // The decoder alone: an Error naming the file, on one line.
      expect(() => decodeNpy(bytes, name), what).toThrow(new RegExp(`^${name.replace('.', '\\.')}: `));
      try {
        decodeNpy(bytes, name);
      } catch (err) {
        expect((err as Error).message, what).not.toMatch(/[\r\n]/);
      }
      const doc = npyDoc(name);
      const prepared = await prepareDocument(doc, registry, (p) => readFileHead(join(root, p)));
      const c = compile(prepared.doc, registry, { baseDir: root });
      const r = prepared.issues.length ? { ok: false as const, issues: prepared.issues } : c;
      if (!r.ok) {
        atValidation++;
        checkIssues(doc, r.issues);
        expect(r.issues.some((x) => x.nodeId === 'src' || x.path.startsWith('nodes[0]')), `${what}: ${JSON.stringify(r.issues)}`).toBe(true);
        continue;
      }
      const run = await executePlan(r.plan, env);
      expect(run.status, what).toBe('failed');
      expect(run.errors.map((e) => e.nodeId), what).toEqual(['src']);
      expect(run.errors[0]!.message, what).toContain(name);
      expect(run.errors[0]!.message, what).not.toMatch(/[\r\n]/);
    }
    // Informational: how many the validator catches before running (issue 9, item 12 wants all).
    console.log(`malformed .npy: ${atValidation} of ${files.length} refused at validation, the rest by the run`);
  }, 120_000);

  it('paths outside the pipeline folder (absolute, ../, symlinks, devices) are refused, never read', async () => {
    const root = join(tmp, 'confined');
    mkdirSync(join(root, 'sub'), { recursive: true });
    const secret = join(tmp, 'secret.npy');
    writeFileSync(secret, encodeNpy(f32([2], new Float32Array([4, 2]))));
    symlinkSync(secret, join(root, 'link.npy'));
    const paths = ['/etc/passwd', '/proc/self/environ', '/dev/zero', secret, '../secret.npy', 'sub/../../secret.npy', 'link.npy', `${root}/../secret.npy`];
    for (const path of paths) {
      for (const type of ['source.npy', 'source.text']) {
        const doc = { ...npyDoc(path), nodes: [{ id: 'src', type, params: { path } }] as Doc[], edges: [] };
        const prepared = await prepareDocument(doc, registry, (p) => readFileHead(resolve(root, p)));
        const r = compile(prepared.doc, registry, { baseDir: root });
        expect(r.ok, `${type} ${path}`).toBe(true);
        if (!r.ok) continue;
        const run = await executePlan(r.plan, env);
        expect(run.status, `${type} ${path}`).toBe('failed');
        expect(run.errors[0]!.message, `${type} ${path}`).toMatch(/read refused|outside|not a regular file/);
      }
    }
    expect(reads.filter((r) => !r.startsWith(join(tmp, 'npy') + sep))).toEqual([]);
  }, 60_000);
});

function npyDoc(path: string): Doc {
  return {
    format: 'context-lab/pipeline', version: 1, name: 'npy',
    nodes: [{ id: 'src', type: 'source.npy', params: { path } }, { id: 'save', type: 'sink.npy', params: { name: 'out' } }],
    edges: [{ from: 'src.out', to: 'save.in' }],
  };
}

/** A valid .npy, then exactly one defect (so each file is malformed by construction). */
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
function build(header: string, data: Uint8Array, version: [number, number] = [1, 0], lenOverride?: number): Uint8Array {
  const h = latin1(header);
  const pre = version[0] === 1 ? 10 : 12;
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version[0], version[1]]);
  const len = lenOverride ?? h.length;
  if (version[0] === 1) new DataView(out.buffer).setUint16(8, len & 0xffff, true);
  else new DataView(out.buffer).setUint32(8, len >>> 0, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}
const headerOf = (descr: string, fortran: string, shape: string, extra = '') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, ${extra}}`.padEnd(118) + '\n';
const tupleOf = (dims: number[]) => (dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`);

const malformedNpy = fc
  .record({
    dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    defect: fc.constantFrom(
      'magic', 'version', 'short', 'header-len-over', 'header-len-huge', 'header-len-under', 'not-dict', 'missing-key', 'extra-key',
      'duplicate-key', 'descr-big-endian', 'descr-object', 'descr-complex', 'descr-float16', 'descr-not-string', 'fortran', 'fortran-int',
      'shape-negative', 'shape-float', 'shape-string', 'shape-nested', 'shape-huge', 'shape-overflow', 'shape-not-tuple', 'unterminated',
      'escape', 'trailing-text', 'truncated', 'trailing-bytes', 'empty-data', 'v3-bad-utf8', 'nul-in-header', 'int64-wide', 'float64-wide',
    ),
    junk: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    cut: fc.nat(),
  })
  .map(({ dims, defect, junk, cut }) => {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Uint8Array(count * 4);
    const ok = (descr = '<f4', fortran = 'False', shape = tupleOf(dims), extra = '') => headerOf(descr, fortran, shape, extra);
    const valid = build(ok(), data);
    const bytes = (() => {
      switch (defect) {
        case 'magic': { const b = valid.slice(); b[1 + (cut % 5)] ^= 0x20; return b; }
        case 'version': return build(ok(), data, [[0, 0], [4, 0], [1, 1], [255, 255]][cut % 4] as [number, number]);
        case 'short': return valid.slice(0, cut % 10);
        case 'header-len-over': return build(ok(), data, [1, 0], ok().length + data.length + 1 + (cut % 1000));
        case 'header-len-huge': return build(ok(), data, [2, 0], 0xffff_ffff - (cut % 1000));
        case 'header-len-under': return build(ok(), data, [1, 0], Math.max(0, ok().length - 1 - (cut % 50)));
        case 'not-dict': return build(`[${tupleOf(dims)}]`.padEnd(63) + '\n', data);
        case 'missing-key': return build(`{'descr': '<f4', 'shape': ${tupleOf(dims)}, }`.padEnd(118) + '\n', data);
        case 'extra-key': return build(ok('<f4', 'False', tupleOf(dims), "'x': True, "), data);
        case 'duplicate-key': return build(ok('<f4', 'False', tupleOf(dims), "'descr': '<f4', "), data);
        case 'descr-big-endian': return build(ok('>f4'), data);
        case 'descr-object': return build(ok('|O'), new Uint8Array(count * 8));
        case 'descr-complex': return build(ok('<c8'), new Uint8Array(count * 8));
        case 'descr-float16': return build(ok('<f2'), new Uint8Array(count * 2));
        case 'descr-not-string': return build(`{'descr': 4, 'fortran_order': False, 'shape': ${tupleOf(dims)}, }`.padEnd(118) + '\n', data);
        case 'fortran': return build(ok('<f4', 'True'), data);
        case 'fortran-int': return build(ok('<f4', '1'), data);
        case 'shape-negative': return build(ok('<f4', 'False', `(-${dims[0]},)`), data);
        case 'shape-float': return build(ok('<f4', 'False', `(${dims[0]}.5,)`), data);
        case 'shape-string': return build(ok('<f4', 'False', `('${dims[0]}',)`), data);
        case 'shape-nested': return build(ok('<f4', 'False', `((${dims.join(', ')}),)`), data);
        case 'shape-huge': return build(ok('<f4', 'False', `(${2 ** 53 + cut},)`), data);
        case 'shape-overflow': return build(ok('<f4', 'False', `(4294967296, 4294967296, ${1 + (cut % 9)})`), data);
        case 'shape-not-tuple': return build(ok('<f4', 'False', `[${dims.join(', ')}]`), data);
        case 'unterminated': return build(`{'descr': '<f4, 'fortran_order': False, 'shape': ${tupleOf(dims)}, }`.padEnd(118) + '\n', data);
        case 'escape': return build(ok('<f\\x34'), data);
        case 'trailing-text': return build(`${ok().trimEnd()} junk`.padEnd(118) + '\n', data);
        case 'truncated': return valid.slice(0, valid.length - 1 - (cut % data.length));
        case 'trailing-bytes': return Uint8Array.from([...valid, ...junk]);
        case 'empty-data': return build(ok(), new Uint8Array(0));
        case 'v3-bad-utf8': { const b = build(ok(), data, [3, 0]); b[14] = 0xff; b[15] = 0xfe; return b; }
        case 'nul-in-header': { const b = valid.slice(); b[10 + (cut % 20)] = 0; return b; }
        case 'int64-wide': {
          const d = new BigInt64Array(count).fill(2n ** 40n + BigInt(cut));
          return build(ok('<i8'), new Uint8Array(d.buffer));
        }
        case 'float64-wide': return build(ok('<f8'), new Uint8Array(new Float64Array(count).fill(1e300).buffer));
        default: throw new Error(defect);
      }
    })();
    return { bytes, defect };
  });

// ---- through the CLI ----------------------------------------------------------------------------

describe('fuzz: a sample through the built CLI', () => {
  it('8 documents and 2 .npy files: exit 0/1/2, one line per issue, no hang, no control characters, nothing outside --out', async () => {
    const invalid = fc.sample(mutatedDoc, { numRuns: 400, seed: SEED + 1 }).filter((d) => !compile(d, registry).ok).slice(0, 4);
    const runnable = fc.sample(runnableDoc, { numRuns: 2, seed: SEED + 1 }).map((c) => c.doc);
    const npy = fc.sample(malformedNpy, { numRuns: 2, seed: SEED + 1 });
    writeFileSync(join(tmp, 'secret.npy'), encodeNpy(f32([2], new Float32Array([4, 2]))));
    const cases = [
      ...invalid.map((doc) => ({ doc, npy: undefined as Uint8Array | undefined, expect: [2] })),
      ...runnable.map((doc) => ({ doc, npy: undefined, expect: [0] })),
      ...npy.map((n) => ({ doc: npyDoc('in.npy'), npy: n.bytes, expect: [1, 2] })),
      // Reads outside the pipeline's folder are refused before anything runs.
      { doc: npyDoc('../secret.npy'), npy: undefined, expect: [2] },
      { doc: { ...npyDoc('/etc/passwd'), nodes: [{ id: 'src', type: 'source.text', params: { path: '/etc/passwd' } }], edges: [] }, npy: undefined, expect: [1, 2] },
    ];
    expect(cases.length).toBe(10);
    // Two at a time: each is a Node process with a worker.
    for (let start = 0; start < cases.length; start += 2) {
      await Promise.all(
        cases.slice(start, start + 2).map(async (c, j) => {
          const dir = join(tmp, `cli-${start + j}`);
          mkdirSync(dir);
          writeFileSync(join(dir, 'p.json'), jsonText(c.doc));
          if (c.npy) writeFileSync(join(dir, 'in.npy'), c.npy);
          const inputs = filesUnder(dir);
          const r = await ctxlabWithin(['run', 'p.json', '--backend', 'cpu', '--out', 'out', '--no-progress', '--memory-budget', '256MiB'], { cwd: dir, timeoutMs: 60_000 });
          const what = `case ${start + j}: ${r.stderr.slice(0, 400)}`;
          expect(r.timedOut, what).toBe(false);
          expect(c.expect, what).toContain(r.code);
          expect(r.stdout + r.stderr, what).not.toMatch(RAW_TERMINAL);
          if (r.code === 2) {
            const lines = r.stderr.trim().split('\n');
            for (const l of lines) expect(l, what).toMatch(/^(p\.json: (\$|[A-Za-z_[])|ctxlab: )/);
          }
          const written = filesUnder(dir).filter((f) => !inputs.includes(f));
          expect(written.filter((f) => !f.startsWith(`out${sep}`) && !f.startsWith('out/')), what).toEqual([]);
        }),
      );
    }
  }, 180_000);
});

/** JSON text of a document that may be nested too deeply for JSON.stringify (written iteratively then). */
function jsonText(doc: unknown): string {
  try {
    return JSON.stringify(doc);
  } catch {
    return '{"format":"context-lab/pipeline","version":1,"nodes":[{"id":"a","type":"compare","params":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}]}';
  }
}

// Mutations work on copies: a template changed in place would skew every later case.
it('templates are unchanged by the mutations', () => {
  expect(TEMPLATES[0]).toEqual(tiny());
});
