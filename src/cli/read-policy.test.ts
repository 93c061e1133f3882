// Shared pipelines read only their own folder (issue 9, item 2): the CLI as a user runs it, on a
// pipeline that chains a file outside its folder into a sink (how a secret was once copied out).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../engine/io/npy.js';
import { f32 } from '../engine/tensor.js';
import { ctxlab } from './testing.js';

let dir: string;
let pipes: string;
let out: string;

/** source.text(path) → tokenizer (bytes) → embedding → sink.npy: the secret's bytes become the output's rows. */
const exfil = (path: string) => ({
  format: 'context-lab/pipeline', version: 1, name: 'exfil',
  nodes: [
    { id: 'secret', type: 'source.text', params: { path } },
    { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' } },
    { id: 'emb', type: 'embedding', params: { dim: 4 } },
    { id: 'save', type: 'sink.npy', params: { name: 'leak' } },
  ],
  edges: [{ from: 'secret.text', to: 'tok.text' }, { from: 'tok.tokens', to: 'emb.tokens' }, { from: 'emb.out', to: 'save.in' }],
});
const npyDoc = (path: string) => ({
  format: 'context-lab/pipeline', version: 1, name: 'npy',
  nodes: [{ id: 'x', type: 'source.npy', params: { path } }, { id: 'save', type: 'sink.npy', params: { name: 'copy' } }],
  edges: [{ from: 'x.out', to: 'save.in' }],
});
function write(name: string, doc: unknown): string {
  const path = join(pipes, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctxlab-reads-'));
  pipes = join(dir, 'pipes');
  out = join(dir, 'out');
  mkdirSync(join(pipes, 'data'), { recursive: true });
  writeFileSync(join(dir, 'secret.txt'), 'top secret');
  writeFileSync(join(dir, 'secret.npy'), encodeNpy(f32([2], new Float32Array([4, 2]))));
  writeFileSync(join(pipes, 'data', 'notes.txt'), 'fine');
  symlinkSync(join(dir, 'secret.txt'), join(pipes, 'data', 'innocent.txt'));
});

describe('ctxlab reads only the pipeline\'s folder', () => {
  it('refuses ../ and absolute paths with exit 2, naming the node, the param and the path, and writes nothing', async () => {
    for (const path of ['../secret.txt', join(dir, 'secret.txt'), ...(existsSync('/etc/passwd') ? ['/etc/passwd'] : [])]) {
      const r = await ctxlab(['run', write('p.json', exfil(path)), '--backend', 'cpu', '--out', out]);
      expect(r.code, path).toBe(2);
      expect(r.stderr).toMatch(/p\.json: nodes\[0\]\.params\.path \[secret\]: read refused: \S+ is outside the folders this pipeline may read/);
      expect(r.stderr).toContain(`--allow-read ${path === '/etc/passwd' ? '/etc' : dir}`);
      expect(existsSync(join(out, 'leak.npy'))).toBe(false);
    }
  });

  it('refuses a symlink inside the folder that points outside', async () => {
    const r = await ctxlab(['run', write('link.json', exfil('data/innocent.txt')), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`resolves to ${join(dir, 'secret.txt')}`);
  });

  it('refuses /dev/zero at once (no read until memory runs out), even with /dev allowed', async () => {
    for (const extra of [[], ['--allow-read', '/dev']]) {
      const r = await ctxlab(['run', write('zero.json', exfil('/dev/zero')), '--backend', 'cpu', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(extra.length ? /\/dev\/zero is not a regular file/ : /\/dev\/zero is outside/);
    }
  });

  it('reads files below the folder, and --allow-read widens it explicitly', async () => {
    const ok = await ctxlab(['run', write('ok.json', exfil('data/notes.txt')), '--backend', 'cpu']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const allowed = await ctxlab(['run', write('p.json', exfil('../secret.txt')), '--backend', 'cpu', '--out', out, '--allow-read', dir]);
    expect(allowed.code).toBe(0);
    expect(decodeNpy(readFileSync(join(out, 'leak.npy'))).shape).toEqual([10, 4]);
    const bad = await ctxlab(['run', write('p.json', exfil('../secret.txt')), '--allow-read', join(dir, 'nope')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--allow-read ${join(dir, 'nope')}: not a folder`);
  });

  it('validate and sweep refuse what run refuses (text and .npy sources), and accept --allow-read', async () => {
    for (const doc of [exfil('../secret.txt'), npyDoc('../secret.npy')]) {
      const file = write('v.json', doc);
      const v = await ctxlab(['validate', file]);
      expect(v.code).toBe(2);
      expect(v.stderr).toMatch(/v\.json: nodes\[0\]\.params\.path \[(secret|x)\]: read refused/);
      expect((await ctxlab(['validate', file, '--allow-read', dir])).code).toBe(0);
    }
    const s = await ctxlab(['sweep', write('s.json', exfil('../secret.txt')), '--backend', 'cpu', '--set', 'emb.dim=2,4']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/read refused/);
  });

  it('confines a pipeline read from stdin to the working folder', async () => {
    const r = await ctxlab(['run', '-', '--backend', 'cpu'], pipes, JSON.stringify(exfil('../secret.txt')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin: nodes\[0\]\.params\.path \[secret\]: read refused/);
    const here = await ctxlab(['run', '-', '--backend', 'cpu'], pipes, JSON.stringify(exfil('data/notes.txt')));
    expect(here.code).toBe(0);
  });

  it('with --json, a refusal is an issue like any other', async () => {
    const r = await ctxlab(['run', write('p.json', exfil('../secret.txt')), '--backend', 'cpu', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).issues).toEqual([expect.objectContaining({ path: 'nodes[0].params.path', nodeId: 'secret', message: expect.stringMatching(/^read refused: /) })]);
  });
});
