// `ctxlab export --ts`: the generated module, run with `npx tsx`, reproduces `ctxlab run --out`
// exactly on the cpu backend, for every pipeline in pipelines/.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ctxlab } from './testing.js';

const files = readdirSync('pipelines').filter((f) => f.endsWith('.json')).sort();
const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tsx(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [join(process.cwd(), 'node_modules/tsx/dist/cli.mjs'), ...args], { maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

/**
 * To keep this test's runtime down, sequence lengths above 256 are set to 256 in both runs (the
 * CLI's --set, and the same --set on `ctxlab export`). A pipeline that does not run at that size
 * (a node fails) is compared at its own size.
 */
const SEQ_LEN = 256;
function shrink(doc: { nodes: { id: string; type: string; params?: Record<string, unknown> }[] }): string[] {
  return doc.nodes.flatMap((n) => [
    ...(typeof n.params?.seqLen === 'number' && n.params.seqLen > SEQ_LEN ? ['--set', `${n.id}.seqLen=${SEQ_LEN}`] : []),
    // Training on the cpu backend takes seconds per step: two steps show the same bytes come out.
    ...(n.type === 'train.lm' ? ['--set', `${n.id}.steps=2`, '--set', `${n.id}.warmupSteps=1`] : []),
  ]);
}

async function runBoth(file: string, sets: string[], tag: string) {
  const a = join(tmp, `${tag}-cli`);
  const b = join(tmp, `${tag}-ts`);
  const mod = join(tmp, `${tag}.ts`);
  const exp = await ctxlab(['export', `pipelines/${file}`, '--ts', mod, ...sets]);
  expect(exp.code, exp.stderr).toBe(0);
  // Run against the built package, as a user's project would import it (tsx would otherwise map
  // 'context-lab' to src/ through tsconfig paths, where tfjs-core's gradients cannot load in Node).
  writeFileSync(mod, readFileSync(mod, 'utf8').replace("from 'context-lab';", `from ${JSON.stringify(join(process.cwd(), 'dist/index.js'))};`));
  const [cli, gen] = await Promise.all([
    ctxlab(['run', `pipelines/${file}`, '--backend', 'cpu', '--out', a, '--json', '--no-progress', ...sets]),
    tsx([mod, b, '--backend', 'cpu']),
  ]);
  return { a, b, cli, gen, report: JSON.parse(cli.stdout) as { errors: unknown[]; status: string } };
}

describe('ctxlab export --ts reproduces ctxlab run on the cpu backend', () => {
  it('has pipelines to export', () => expect(files.length).toBeGreaterThan(0));

  for (const file of files) {
    it(`${file}: every output byte-identical, metrics.json equal, same exit code`, async () => {
      const doc = JSON.parse(readFileSync(`pipelines/${file}`, 'utf8'));
      const tag = file.replace(/\.json$/, '');
      let r = await runBoth(file, shrink(doc), tag);
      if (r.report.errors.length && shrink(doc).length) r = await runBoth(file, [], `${tag}-full`);
      expect(r.report.errors, r.cli.stdout).toEqual([]);
      expect(r.gen.stderr.replace(/=+\nHi, looks like you are running TensorFlow\.js[^]*?=+\n/, '').trim(), r.gen.stderr).toBe('');
      expect(r.gen.code, r.gen.stdout).toBe(r.cli.code);
      const outputs = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.endsWith('.tmp')).sort();
      expect(outputs(r.b)).toEqual(outputs(r.a));
      for (const f of outputs(r.a).filter((f) => f.endsWith('.npy'))) expect(readFileSync(join(r.b, f)).equals(readFileSync(join(r.a, f))), `${f} differs`).toBe(true);
      for (const f of outputs(r.a).filter((f) => f.endsWith('.safetensors') || f.endsWith('config.json'))) expect(readFileSync(join(r.b, f)).equals(readFileSync(join(r.a, f))), `${f} differs`).toBe(true);
      // Metrics agree exactly, except measured speeds (train.lm's tokensPerSecond), clock readings
      // (a `timing` object: the devices' times and lanes of ring and dilated-distributed) and the
      // memory their device workers measured (`measured`).
      const clocked = new Set(['tokensPerSecond', 'timing', 'measured']);
      const metrics = (dir: string) => JSON.stringify(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'), (k, v) => (clocked.has(k) ? '(timing)' : v)), null, 1);
      expect(metrics(r.b)).toBe(metrics(r.a));
      // The profile matches in everything but timings and the host.
      const shape = (dir: string) => {
        const p = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
        return { pipeline: p.pipeline, status: p.status, backend: p.backend.name, predictedPeakBytes: p.predictedPeakBytes, nodes: p.nodes.map((n: Record<string, unknown>) => [n.nodeId, n.type, n.status, n.predictedPeakBytes, n.flops]) };
      };
      expect(shape(r.b)).toEqual(shape(r.a));
    }, 300_000);
  }
});

describe('ctxlab export', () => {
  it('writes JSON at the current version (--to-json) and refuses invalid pipelines', async () => {
    const out = join(tmp, 'v1.json');
    const r = await ctxlab(['export', 'src/engine/testdata/v0-draft.json', '--to-json', out]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.version).toBe(1);
    expect(doc.nodes[1]).toEqual({ id: 'attn', type: 'attention', params: { variant: 'flash', blockSize: 16 }, position: { x: 300, y: 20 } });

    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'context-lab/pipeline', version: 1, nodes: [{ id: 'a', type: 'attention', params: { variant: 'nope' } }] }));
    const b = await ctxlab(['export', bad, '--ts', join(tmp, 'bad.ts')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/nodes\[0\]\.params\.variant/);
    expect(existsSync(join(tmp, 'bad.ts'))).toBe(false);
    // --set is checked as `run` checks it: a param the node does not have is an error, not a warning.
    const unknown = await ctxlab(['export', 'pipelines/flash-vs-naive.json', '--ts', join(tmp, 'unknown.ts'), '--set', 'flash.blockSiz=32']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/blockSiz/);
    expect(existsSync(join(tmp, 'unknown.ts'))).toBe(false);
  });

  it('prints the module when no output is named, with the pipeline folder stored absolute', async () => {
    const r = await ctxlab(['export', 'pipelines/flash-vs-naive.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`const baseDir = '${join(process.cwd(), 'pipelines')}';`);
    expect(r.stdout).toContain("from 'context-lab';");
  });
});
