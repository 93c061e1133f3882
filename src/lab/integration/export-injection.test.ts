// `ctxlab export --ts` on hostile documents: every string from the pipeline (names, keys, labels,
// notes, `why`, param values, dropped fields, ids that are prototype keys) reaches the generated
// module escaped. The modules type-check, run, reproduce the strings exactly, and write nothing
// outside their output folder.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { compile } from '../../engine/compile/compile.js';
import { commentText, stringLiteral } from '../../engine/export/literal.js';
import { exportTypeScript } from '../../engine/export/typescript.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-export-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Where a payload that ran would write. */
const MARK = join(tmp, 'PWNED');
const code = `import('node:fs').then((fs) => fs.writeFileSync(${JSON.stringify(MARK)}, 'x'));`;
/** Ways out of a comment or a string literal, each followed by code that writes MARK. */
const PAYLOADS = [
  `\n${code}\n//`, `\r${code}\r//`, `\r\n${code}//`, `\u2028${code}\u2028//`, `\u2029${code}\u2029//`,
  `'); ${code} ('`, `"); ${code} ("`, `\`; ${code}; \``, `\${${code}}`, `*/ ${code} /*`, `\\'; ${code} //`, '\\',
  `\u202e${code}\u2066`, `\u0000\u001b[2J\u0085${code}`, `\ud800${code}\udc00`, `</script>${code}`, `\ufeff${code}`,
];
const H = PAYLOADS.join(' ');

function hostileStrings() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: H,
    description: `${H}\n\n${H}`,
    [H]: H,
    nodes: [
      // The audit's case: an unknown field *name* on a node, written into a comment by the exporter.
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 8, headDim: 4, [H]: H }, label: H, notes: H, [H]: 1 },
      { id: 'attn', type: 'attention', params: { variant: 'naive', note: PAYLOADS }, label: H, position: { x: 1, y: 2 } },
      { id: 'save', type: 'sink.npy', params: { name: 'out' }, ...Object.fromEntries(PAYLOADS.map((p, i) => [p, i])) },
    ],
    edges: [{ from: 'qkv.q', to: 'attn.q' }, { from: 'qkv.k', to: 'attn.k' }, { from: 'qkv.v', to: 'attn.v' }, { from: 'attn.out', to: 'save.in' }],
    checks: [{ node: 'qkv', profile: 'wallMs', ge: 0, why: H }],
  };
}

/** Node ids and sink names that are Object.prototype's keys. */
function prototypeKeys() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'prototype keys',
    nodes: [
      { id: '__proto__', type: 'source.synthetic-qkv', params: JSON.parse('{"heads":1,"seqLen":8,"headDim":4,"__proto__":{"polluted":1}}') },
      { id: 'constructor', type: 'attention', params: { variant: 'naive' } },
      { id: 'hasOwnProperty', type: 'attention', params: { variant: 'flash', blockSize: 16 } },
      { id: 'isPrototypeOf', type: 'compare' },
      { id: 'toString', type: 'sink.npy', params: { name: 'constructor' } },
      { id: 'valueOf', type: 'sink.npy', params: { name: '__proto__' } },
    ],
    edges: [
      ...['constructor', 'hasOwnProperty'].flatMap((a) => ['q', 'k', 'v'].map((p) => ({ from: `__proto__.${p}`, to: `${a}.${p}` }))),
      { from: 'constructor.out', to: 'isPrototypeOf.a' }, { from: 'hasOwnProperty.out', to: 'isPrototypeOf.b' },
      { from: 'constructor.out', to: 'toString.in' }, { from: 'hasOwnProperty.out', to: 'valueOf.in' },
    ],
    checks: [{ node: 'isPrototypeOf', metric: 'maxAbs', lt: 1e-4, why: 'flash is exact' }],
  };
}

function exec(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((done) =>
    execFile(process.execPath, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr })),
  );
}

/** Every file under `dir`, relative. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

describe('the one escaping function', () => {
  it('keeps hostile text on its line in comments and exact in literals', () => {
    for (const p of PAYLOADS) {
      expect(commentText(p)).not.toMatch(/[\r\n\u2028\u2029\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/);
      expect(new Function(`return ${stringLiteral(p)};`)(), JSON.stringify(p)).toBe(p);
    }
  });

  it('writes the audit\'s unknown-field payload as one comment line', () => {
    const ts = exportTypeScript(hostileStrings(), { registry });
    const dropped = ts.split('\n').filter((l) => l.includes('fields the builder does not carry'));
    expect(dropped).toHaveLength(2);
    for (const l of dropped) expect(l.startsWith('// (fields')).toBe(true);
    // No raw line terminators, controls or bidi overrides anywhere in the module.
    expect(ts).not.toMatch(/[\r\u2028\u2029\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/);
  });
});

describe('exported hostile pipelines', () => {
  const docs = { strings: hostileStrings(), proto: prototypeKeys() };
  const work = join(tmp, 'work');
  mkdirSync(work);
  const files: Record<string, string> = {};
  for (const [name, doc] of Object.entries(docs)) {
    expect(compile(doc, registry).ok, name).toBe(true);
    files[name] = join(work, `${name}.ts`);
    writeFileSync(files[name], exportTypeScript(doc, { registry, baseDir: work, source: `${H}.json`, fileName: H, defaultOutDir: H }));
  }

  it('type-check (tsc --noEmit, strict)', async () => {
    writeFileSync(join(tmp, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true,
        lib: ['ES2023', 'DOM'], types: ['node', '@webgpu/types'], typeRoots: [join(ROOT, 'node_modules/@types'), join(ROOT, 'node_modules')],
        paths: { 'context-lab': [join(ROOT, 'src/lab/index.ts')] },
      },
      files: Object.values(files),
    }));
    const r = await exec([join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json'], tmp);
    // Errors inside the engine's own sources are `npm run typecheck`'s business.
    const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l) && !resolve(tmp, l.slice(0, l.indexOf('('))).startsWith(join(ROOT, 'src') + '/'));
    expect(errors, r.out).toEqual([]);
  }, 120_000);

  it('run, reproduce every string, and write only inside their output folder', async () => {
    const before = tree(tmp);
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const out = { strings: join(tmp, 'out-strings'), proto: join(tmp, 'out-proto') };
    const runs = await Promise.all(
      (['strings', 'proto'] as const).map((name) =>
        exec([join(ROOT, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', join(ROOT, 'tsconfig.json'), files[name]!, out[name], '--backend', 'cpu'], work)),
    );
    expect(runs[0]!.code, runs[0]!.out).toBe(0);
    expect(runs[1]!.code, runs[1]!.out).toBe(0);
    expect(existsSync(MARK)).toBe(false);
    // Only the two output folders are new.
    const added = tree(tmp).filter((f) => !before.includes(f));
    expect(added.filter((f) => !f.startsWith('out-strings/') && !f.startsWith('out-proto/'))).toEqual([]);
    expect(tree(out.strings)).toEqual(['metrics.json', 'out.npy', 'profile.json']);
    expect(tree(out.proto)).toEqual(['__proto__.npy', 'constructor.npy', 'metrics.json', 'profile.json']);
    // The strings arrived exactly.
    expect(JSON.parse(readFileSync(join(out.strings, 'profile.json'), 'utf8')).pipeline).toBe(H);
    // Prototype keys are ordinary keys in metrics.json.
    expect(Object.keys(JSON.parse(readFileSync(join(out.proto, 'metrics.json'), 'utf8')))).toEqual(['isPrototypeOf']);
    expect(runs[1]!.out).toMatch(/✓ isPrototypeOf\.maxAbs = .* < 0\.0001 — flash is exact/);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
  }, 120_000);
});
