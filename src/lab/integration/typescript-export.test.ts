import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { pipeline } from '../api.js';
import { compile } from '../../engine/compile/compile.js';
import { qkvAttention } from '../testdata/fixtures.js';
import { literal, stringLiteral } from '../../engine/export/literal.js';
import { ExportError, exportTypeScript } from '../../engine/export/typescript.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const pipelineFiles = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).sort();
const readPipeline = (f: string) => JSON.parse(readFileSync(join(ROOT, 'pipelines', f), 'utf8'));

/** Runs the builder part of a generated module (everything before the run section) and returns its document. */
function builtDoc(code: string): unknown {
  const body = code.slice(0, code.indexOf('\n// Relative paths')).split('\n').filter((l) => !l.startsWith('import ')).join('\n');
  return new Function('pipeline', `${body}\nreturn p.toJSON();`)(pipeline);
}

/** A pipeline with awkward ids, params and node fields; nodes listed out of topological order. */
function awkward() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: "it's \"awkward\"\non two lines",
    description: 'Ids that are not identifiers, or that the module itself uses; strings that need escapes.\n\nA second paragraph.',
    'x-future': { kept: 'in JSON, not in code' },
    nodes: [
      { id: 'in', type: 'compare', params: {}, position: { x: 640.5, y: -0 }, label: 'a "label"', notes: 'line 1\nline 2 \\ \u2028 end' },
      { id: 'save-flash', type: 'sink.npy', params: { name: 'flash' }, color: 'red', label: "it's" },
      { id: 'p', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 16, headDim: 8, seed: -3 }, position: { x: 0, y: 120 } },
      { id: 'const', type: 'attention', params: { variant: 'naive', causal: true } },
      { id: 'a-b', type: 'attention', params: { variant: 'flash', blockSize: 16, causal: true } },
      { id: 'a_b', type: 'sink.npy', params: { name: 'a_b' } },
    ],
    edges: [
      { from: 'p.q', to: 'const.q' }, { from: 'p.k', to: 'const.k' }, { from: 'p.v', to: 'const.v' },
      { from: 'p.q', to: 'a-b.q' }, { from: 'p.k', to: 'a-b.k' }, { from: 'p.v', to: 'a-b.v' },
      { from: 'a-b.out', to: 'in.a' }, { from: 'const.out', to: 'in.b' },
      { from: 'a-b.out', to: 'save-flash.in' }, { from: 'const.out', to: 'a_b.in' },
    ],
    checks: [{ node: 'in', metric: 'maxAbs', lt: 1e-5, why: "flash is exact — it's naive's output" }],
  };
}

describe('literals', () => {
  it('evaluate to the value they were printed from', () => {
    const values = [
      "it's", 'back\\slash', 'a\nb\r\tc', '\u2028\u2029', '\u0000\u001f\u007f', 'é × 😀', '\ud800 lone', '',
      0, -0, 1e-5, 1e21, -3.25, 2 ** 53, Number.MIN_VALUE, true, false, null, [], {},
      { 'not-ident': 2, ok: [1, 2, { deep: 'x' }], '': 3, '0': 4 },
      Array.from({ length: 60 }, (_, i) => i / 7),
      { long: 'x'.repeat(200), nested: { a: Array.from({ length: 30 }, (_, i) => `s${i}`) } },
    ];
    for (const v of values) {
      const back = new Function(`return ${literal(v)};`)();
      if (typeof v === 'number') expect(Object.is(back, v), `${v}`).toBe(true);
      else expect(back, JSON.stringify(v)).toStrictEqual(v);
    }
    expect(literal(-0)).toBe('-0');
    expect(stringLiteral("it's")).toBe('"it\'s"');
    expect(stringLiteral('it\'s "x"')).toBe("'it\\'s \"x\"'");
    expect(stringLiteral('plain')).toBe("'plain'");
    // `__proto__` as a plain key would set the prototype instead of adding a property.
    const proto = new Function(`return ${literal(JSON.parse('{"__proto__": {"x": 1}}'))};`)();
    expect(Object.keys(proto)).toEqual(['__proto__']);
  });
});

describe('exportTypeScript', () => {
  it('writes one statement per node in run order, with titles, params as literals and the run section', () => {
    const code = exportTypeScript(qkvAttention(), { registry, source: 'fixtures.ts' });
    expect(code).toContain("import { pipeline, PipelineLoadError, runPipeline, writeOutputs } from 'context-lab';");
    expect(code.match(/p\.node\(/g)).toHaveLength(4);
    expect(code).toContain("const qkv = p.node('qkv', 'source.synthetic-qkv', { heads: 2, seqLen: 32, headDim: 8 });");
    expect(code).toContain("const naive = p.node('naive', 'attention', { variant: 'naive' }, { q: qkv.q, k: qkv.k, v: qkv.v });");
    expect(code).toContain("p.node('cmp', 'compare', {}, { a: flash.out, b: naive.out });");
    expect(code).toMatch(/\/\/ qkv: Synthetic Q\/K\/V \(source\.synthetic-qkv\)/);
    expect(code).toMatch(/\/\/ flash: Attention — .*\(attention\)/);
    expect(code).toContain("const baseDir = fileURLToPath(new URL('./', import.meta.url));");
    expect(code).toContain('await runPipeline(p.toJSON(), { backend, baseDir })');
    expect(code).toContain('await writeOutputs(run, outDir)');
  });

  it('builds the same graph as the document: ids, types, params, positions, labels, notes, edges, checks', () => {
    for (const [name, doc] of [['awkward', awkward()] as const, ...pipelineFiles.map((f) => [f, readPipeline(f)] as const)]) {
      const code = exportTypeScript(doc, { registry });
      const built = builtDoc(code) as ReturnType<typeof awkward>;
      const a = compile(doc, registry);
      const b = compile(built, registry);
      expect(a.ok && b.ok, `${name} compiles both ways`).toBe(true);
      if (!a.ok || !b.ok) continue;
      // The compiler runs the nodes in the same order, so outputs and metrics.json keys come out in the same order.
      expect(b.plan.steps.map((s) => s.id), name).toEqual(a.plan.steps.map((s) => s.id));
      const byId = new Map(doc.nodes.map((n: { id: string }) => [n.id, n]));
      for (const n of built.nodes) {
        const orig = byId.get(n.id) as Record<string, unknown>;
        expect(n.type).toBe(orig.type);
        expect(n.params).toEqual(orig.params ?? {});
        for (const k of ['position', 'label', 'notes'] as const) expect(n[k as keyof typeof n], `${name} ${n.id}.${k}`).toEqual(orig[k]);
      }
      const edges = (d: { edges: { from: string; to: string }[] }) => d.edges.map((e) => `${e.from}->${e.to}`).sort();
      expect(edges(built), name).toEqual(edges(doc));
      expect(b.plan.doc.checks, name).toEqual(a.plan.doc.checks);
      expect(b.plan.doc.description).toBe(a.plan.doc.description);
      expect(b.plan.doc.name).toBe(a.plan.doc.name);
    }
  });

  it('names variables after node ids, avoiding its own names, reserved words and clashes', () => {
    const code = exportTypeScript(awkward(), { registry });
    expect(code).toContain("const p_ = p.node('p', 'source.synthetic-qkv'");
    expect(code).toContain("const const_ = p.node('const', 'attention'");
    expect(code).toContain("const a_b = p.node('a-b', 'attention'");
    expect(code).toContain("p.node('a_b', 'sink.npy', { name: 'a_b' }, { in: const_.out });");
    expect(code).toContain('// (fields the builder does not carry, left out: color)');
    expect(code).toContain('// Ids that are not identifiers');
    // The header comment stays a comment whatever the name holds: the line break is shown as an escape.
    expect(code.split('\n')[0]).toMatch(/^\/\/ it's "awkward"\\non two lines — /);
  });

  it('stores the pipeline folder relative to the module, or absolute', () => {
    expect(exportTypeScript(qkvAttention(), { baseDir: '../pipelines' })).toContain("new URL('../pipelines/', import.meta.url)");
    expect(exportTypeScript(qkvAttention(), { baseDir: 'data dir' })).toContain("new URL('./data%20dir/', import.meta.url)");
    expect(exportTypeScript(qkvAttention(), { baseDir: '/srv/lab/pipelines' })).toContain("const baseDir = '/srv/lab/pipelines';");
    expect(exportTypeScript(qkvAttention(), { baseDir: 'C:\\lab\\pipelines' })).toContain("const baseDir = 'C:\\\\lab\\\\pipelines';");
  });

  it('exports older versions through the migration chain', () => {
    const v0 = JSON.parse(readFileSync(join(ROOT, 'src/engine/testdata/v0-draft.json'), 'utf8'));
    const code = exportTypeScript(v0, { registry });
    expect(code).toContain("const qkv = p.node('qkv', 'source.synthetic-qkv',\n  { heads: 2, seqLen: 32, headDim: 8 },\n  {},\n  { position: { x: 10, y: 20 } },\n);");
    expect(compile(builtDoc(code), registry).ok).toBe(true);
  });

  it('refuses documents it cannot write, naming the problem', () => {
    const doc = qkvAttention();
    const cyclic = { ...doc, edges: [...doc.edges, { from: 'cmp.metrics', to: 'qkv.x' }] };
    expect(() => exportTypeScript(cyclic)).toThrow(/cycle through "qkv", "naive", "flash", "cmp"/);
    expect(() => exportTypeScript({ ...doc, edges: [{ from: 'nope.out', to: 'cmp.a' }] })).toThrow(/edges\[0\]\.from: no node "nope"/);
    expect(() => exportTypeScript({ ...doc, edges: [{ from: 'naive.out', to: 'cmp.a' }, { from: 'flash.out', to: 'cmp.a' }] })).toThrow(/cmp\.a is fed by more than one edge/);
    expect(() => exportTypeScript({ ...doc, nodes: [...doc.nodes, doc.nodes[0]] })).toThrow(/duplicate node id "qkv"/);
    expect(() => exportTypeScript({ format: 'context-lab/pipeline', version: 1, nodes: 3 })).toThrow(ExportError);
  });
});

describe('the exporters', () => {
  it('import nothing from Node, so the editor bundles them for the browser', async () => {
    const { build } = await import('esbuild');
    const r = await build({
      entryPoints: [join(ROOT, 'src/engine/export/typescript.ts'), join(ROOT, 'src/engine/export/json.ts')],
      bundle: true, platform: 'browser', format: 'esm', write: false, outdir: 'out', metafile: true, logLevel: 'silent',
    });
    expect(Object.keys(r.metafile.inputs).filter((k) => k.startsWith('node:') || k.includes('/node/'))).toEqual([]);
  });
});

describe('generated modules type-check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-export-tsc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every pipeline in pipelines/ and an awkward one pass `tsc --noEmit` (strict) against the context-lab API', async () => {
    const files: string[] = [];
    for (const [name, doc] of [['awkward.json', awkward()] as const, ...pipelineFiles.map((f) => [f, readPipeline(f)] as const)]) {
      const file = join(dir, name.replace(/\.json$/, '.ts'));
      writeFileSync(file, exportTypeScript(doc, { registry, baseDir: join(ROOT, 'pipelines') }));
      files.push(file);
    }
    // What a user's project would have: strict mode, ESM, Node types, `context-lab` resolved to the engine's entry.
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true,
        lib: ['ES2023', 'DOM'], types: ['node', '@webgpu/types'], typeRoots: [join(ROOT, 'node_modules/@types'), join(ROOT, 'node_modules')],
        paths: { 'context-lab': [join(ROOT, 'src/lab/index.ts')] },
      },
      files,
    }));
    const r = await new Promise<string>((done) =>
      execFile(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], { cwd: dir, maxBuffer: 64 << 20 }, (_err, stdout, stderr) =>
        done(stdout + stderr)),
    );
    // Errors inside the engine's own sources are `npm run typecheck`'s business; any other error
    // (in a generated file, or in the configuration) fails this test.
    const errors = r.split('\n').filter((l) => /error TS\d+/.test(l));
    const elsewhere = errors.filter((l) => !/^[^(]+\(/.test(l) || !resolve(dir, l.slice(0, l.indexOf('('))).startsWith(join(ROOT, 'src') + '/'));
    expect(elsewhere, r).toEqual([]);
  }, 120_000);
});
