#!/usr/bin/env node
// Checks that the package works from a new folder that installs it: `npm pack` this project, install
// the tarball (and tsx) in an empty ESM project from the npm cache (--offline; --prefer-offline when
// the cache lacks something), then there:
//   1. a plain-JS script imports `context-lab` and runs a small pipeline with `node`;
//   2. the installed `ctxlab export --ts` writes modules that `tsx` runs, and their .npy files and
//      metrics.json equal the installed `ctxlab run --backend cpu`'s, byte for byte;
//   3. those modules type-check (`tsc --noEmit`, strict) against the installed package's types.
// Usage: node scripts/check-package.mjs [--keep]   (--keep leaves the temporary folder for a look)
// Exit code 0 when every step passed. Too slow for the unit tests (a pack and an install): run by hand
// or in CI after `npm test`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-package-'));
const app = join(tmp, 'app');
const results = [];
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', NO_COLOR: '1' };

function step(name, fn) {
  try {
    const note = fn();
    results.push({ name, ok: true, note });
    console.log(`✓ ${name}${note ? ` — ${note}` : ''}`);
    return true;
  } catch (err) {
    results.push({ name, ok: false, note: err.message });
    console.log(`✗ ${name}\n    ${String(err.message).trim().split('\n').join('\n    ')}`);
    return false;
  }
}

function run(cmd, args, cwd, { allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status}:\n${(r.stderr || r.stdout).slice(-3000)}`);
  return r;
}

let tarball;
step('npm pack (runs prepare: the esbuild build into dist/)', () => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  tarball = join(tmp, info.filename);
  const files = new Set(info.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const problems = [];
  const entry = pkg.exports?.['.'];
  for (const [cond, target] of Object.entries(entry ?? {}))
    if (!files.has(target.replace(/^\.\//, ''))) problems.push(`exports["."].${cond} is ${target}, which the tarball does not hold`);
  const bin = Object.values(pkg.bin ?? {})[0];
  if (bin && !files.has(bin.replace(/^\.\//, ''))) problems.push(`bin ${bin} is not in the tarball`);
  if (!files.has('dist/ctxlab.js')) problems.push('dist/ is not in the tarball (dist/ is in .gitignore and package.json has no "files"), so the installed CLI falls back to tsx and the engine entry is missing');
  if (problems.length) throw new Error(`${info.filename}: ${info.files.length} files, ${(info.size / 1e6).toFixed(1)} MB packed\n${problems.join('\n')}`);
  return `${info.filename}: ${info.files.length} files, ${(info.size / 1e6).toFixed(1)} MB`;
});

const devPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies ?? {};
const tools = ['tsx', 'typescript', '@types/node'].map((n) => (devPkg[n] ? `${n}@${devPkg[n]}` : n));

const installed = step(`npm install <tarball> ${tools.join(' ')} in an empty project, from the npm cache`, () => {
  run('mkdir', ['-p', app], tmp);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'ctxlab-package-check', private: true, type: 'module' }, null, 2));
  const args = ['install', '--no-audit', '--no-fund', tarball, ...tools];
  let r = run('npm', ['--offline', ...args], app, { allowFail: true });
  if (r.status === 0) return 'offline';
  r = run('npm', ['--prefer-offline', ...args], app, { allowFail: true });
  if (r.status !== 0) throw new Error(`the install failed offline and with --prefer-offline:\n${(r.stderr || r.stdout).slice(-3000)}`);
  return 'prefer-offline (the cache lacked something)';
});

if (installed) {
  step('a plain-JS ESM script imports context-lab and runs a pipeline with node', () => {
    writeFileSync(join(app, 'smoke.mjs'), [
      "import { pipeline, runPipeline, PIPELINE_VERSION } from 'context-lab';",
      "const p = pipeline('smoke');",
      "const qkv = p.node('qkv', 'source.synthetic-qkv', { heads: 2, seqLen: 32, headDim: 8 });",
      "const a = p.node('naive', 'attention', { variant: 'naive' }, { q: qkv.q, k: qkv.k, v: qkv.v });",
      "const b = p.node('flash', 'attention', { variant: 'flash', blockSize: 16 }, { q: qkv.q, k: qkv.k, v: qkv.v });",
      "p.node('cmp', 'compare', {}, { a: b.out, b: a.out });",
      "const run = await runPipeline(p.toJSON(), { backend: 'cpu' });",
      "if (run.status !== 'ok' || !(run.metrics.cmp.maxAbs < 1e-5)) throw new Error(JSON.stringify(run.errors));",
      "console.log(`format v${PIPELINE_VERSION}, cmp.maxAbs ${run.metrics.cmp.maxAbs}`);",
    ].join('\n'));
    return run(process.execPath, ['smoke.mjs'], app).stdout.trim().split('\n').at(-1);
  });

  const cases = [
    ['flash-vs-naive.json', ['--set', 'qkv.seqLen=128']],
    ['llmlingua.json', []],
  ];
  for (const [file, sets] of cases) {
    step(`ctxlab export --ts ${file}, run with tsx: the same .npy and metrics.json as ctxlab run --backend cpu`, () => {
      const tag = file.replace(/\.json$/, '');
      const pipelineFile = join(ROOT, 'pipelines', file);
      const ctxlab = join(app, 'node_modules/.bin/ctxlab');
      run(ctxlab, ['export', pipelineFile, '--ts', `${tag}.ts`, ...sets], app);
      const gen = run(join(app, 'node_modules/.bin/tsx'), [`${tag}.ts`, `${tag}-ts`, '--backend', 'cpu'], app, { allowFail: true });
      const cli = run(ctxlab, ['run', pipelineFile, '--backend', 'cpu', '--out', `${tag}-cli`, '--no-progress', ...sets], app, { allowFail: true });
      if (gen.status === 2 || !existsSync(join(app, `${tag}-ts`, 'metrics.json'))) throw new Error(`the generated module failed:\n${gen.stderr.slice(-3000)}`);
      if (cli.status !== gen.status) throw new Error(`exit codes differ: ctxlab run ${cli.status}, module ${gen.status}\n${cli.stderr}${gen.stderr}`.slice(-3000));
      const outputs = (d) => readdirSync(join(app, d)).filter((f) => f.endsWith('.npy') || f === 'metrics.json').sort();
      const a = outputs(`${tag}-cli`);
      if (JSON.stringify(a) !== JSON.stringify(outputs(`${tag}-ts`))) throw new Error(`different files: ${a} vs ${outputs(`${tag}-ts`)}`);
      for (const f of a)
        if (!readFileSync(join(app, `${tag}-cli`, f)).equals(readFileSync(join(app, `${tag}-ts`, f)))) throw new Error(`${f} differs`);
      return `${a.join(', ')} identical (exit ${gen.status})`;
    });
  }

  step('the generated modules type-check against the installed package (tsc --noEmit, strict)', () => {
    const files = cases.map(([file]) => file.replace(/\.json$/, '.ts'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files,
    }, null, 2));
    const r = run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app, { allowFail: true });
    if (r.status !== 0) throw new Error(r.stdout + r.stderr);
    return files.join(', ');
  });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failed}/${results.length} steps passed${keep ? `; left in ${tmp}` : ''}`);
if (!keep) rmSync(tmp, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
