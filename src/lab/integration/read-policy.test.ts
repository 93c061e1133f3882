// The read policy on a real file system: what a shared pipeline may read (its folder and below, the
// allowed folders), with symlinks resolved, regular files only and a size limit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReadRefusal, ReadRefusedError, refusalIssues } from '../../engine/io/read-policy.js';
import { ReadPolicy } from '../../engine/node/read-policy.js';
import { z } from 'zod';
import { runPipeline } from '../api.js';
import { defineNode } from '../../engine/node.js';
import { createRegistry } from '../../nodes/index.js';
import { EngineService } from '../../engine/run/service.js';
import { text as textValue } from '../../engine/values.js';
import { PipelineLoadError } from '../../engine/node/host.js';
import { nodeBackendSetup } from '../../engine/node/setup.js';

let dir: string;
let pipes: string;
let outside: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctxlab-policy-'));
  pipes = join(dir, 'pipes');
  outside = join(dir, 'outside');
  mkdirSync(join(pipes, 'model'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(pipes, 'a.txt'), 'inside');
  writeFileSync(join(pipes, 'model', 'config.json'), '{"hidden_size":8}');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(join(outside, 'secret.txt'), join(pipes, 'link-out.txt'));
  symlinkSync(join(pipes, 'a.txt'), join(pipes, 'link-in.txt'));
  symlinkSync(outside, join(pipes, 'dir-out'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(ReadRefusedError);
  return err as ReadRefusedError;
};

describe('ReadPolicy', () => {
  it('reads files in the pipeline\'s folder and its subfolders (a model folder\'s files)', async () => {
    const p = ReadPolicy.of({ baseDir: pipes });
    expect(text(await p.read('a.txt'))).toBe('inside');
    expect(text(await p.read(join(pipes, 'a.txt')))).toBe('inside');
    expect(text(await p.read('model/config.json'))).toBe('{"hidden_size":8}');
    expect(text(await p.read('./model/../a.txt'))).toBe('inside');
    expect(text(await p.read('link-in.txt'))).toBe('inside');
    expect((await p.readHead('model/config.json', 4)).bytes).toEqual(new TextEncoder().encode('{"hi'));
    expect((await p.readHead('model/config.json', 4)).size).toBe(17);
  });

  it('refuses absolute and ../ paths outside, naming the path and the folder to allow', async () => {
    const p = ReadPolicy.of({ baseDir: pipes });
    const up = await refusal(p.read('../outside/secret.txt'));
    expect(up.reason).toBe('outside');
    expect(up.message).toContain(`${join(outside, 'secret.txt')} is outside the folders this pipeline may read (${pipes})`);
    expect(up.message).toContain(`--allow-read ${outside}`);
    if (existsSync('/etc/passwd')) expect((await refusal(p.read('/etc/passwd'))).folder).toBe('/etc');
    if (existsSync('/proc/self/environ')) await refusal(p.read('/proc/self/environ'));
    await refusal(p.readHead('../outside/secret.txt'));
    // Refused whether or not it exists: the answer tells nothing about files outside.
    expect((await refusal(p.read('../outside/missing.txt'))).message).toContain(`${join(outside, 'missing.txt')} is outside`);
    await expect(p.read('missing.txt')).rejects.toThrow(/ENOENT/);
    // reader(): files that cannot be read are undefined for prepare, refusals still throw.
    expect(await p.reader().readHead('missing.npy')).toBeUndefined();
    await refusal(p.reader().readHead('../outside/secret.txt'));
  });

  it('resolves symlinks before the check: a link inside pointing outside is refused', async () => {
    const p = ReadPolicy.of({ baseDir: pipes });
    const e = await refusal(p.read('link-out.txt'));
    expect(e.message).toContain(`(it resolves to ${join(outside, 'secret.txt')})`);
    await refusal(p.read('dir-out/secret.txt'));
  });

  it('--allow-read widens the roots, and only by the folders named', async () => {
    const p = ReadPolicy.of({ baseDir: pipes, allowRead: [outside] });
    expect(text(await p.read('../outside/secret.txt'))).toBe('secret');
    expect(text(await p.read('link-out.txt'))).toBe('secret');
    const later = ReadPolicy.of({ baseDir: pipes });
    await refusal(later.read('link-out.txt'));
    later.allow(outside);
    expect(text(await later.read('link-out.txt'))).toBe('secret');
    // A root that does not exist allows nothing (not even as a prefix of a real folder).
    await refusal(ReadPolicy.of({ baseDir: pipes, allowRead: [join(dir, 'out')] }).read('../outside/secret.txt'));
  });

  it('refuses devices, pipes and folders, and /dev/zero at once', async () => {
    await refusal(ReadPolicy.of({ baseDir: pipes }).read('/dev/zero'));
    const dev = ReadPolicy.of({ baseDir: pipes, allowRead: ['/dev'] });
    if (existsSync('/dev/zero')) expect((await refusal(dev.read('/dev/zero'))).reason).toBe('not-a-file');
    expect((await refusal(ReadPolicy.of({ baseDir: pipes }).read('model'))).reason).toBe('not-a-file');
    // A FIFO with no writer: opening it must not block.
    const fifo = join(pipes, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo on this system
    }
    expect((await refusal(ReadPolicy.of({ baseDir: pipes }).read('fifo'))).reason).toBe('not-a-file');
  });

  it('refuses files over the size limit, and files that grow past it while read', async () => {
    writeFileSync(join(pipes, 'big.bin'), new Uint8Array(11));
    const p = new ReadPolicy([pipes], 10);
    const e = await refusal(p.read('big.bin'));
    expect(e.reason).toBe('too-large');
    expect(e.message).toMatch(/is 11 bytes, over the 10-byte limit/);
    expect((await new ReadPolicy([pipes], 11).read('big.bin')).length).toBe(11);
    // /proc files report size 0 and hold more: read to the end, up to the limit.
    if (existsSync('/proc/self/status')) {
      const proc = new ReadPolicy([pipes, '/proc'], 1 << 20);
      expect(text(await proc.read('/proc/self/status'))).toMatch(/^Name:/);
      expect((await refusal(new ReadPolicy(['/proc'], 16).read('/proc/self/status'))).reason).toBe('too-large');
    }
  });

  it('recognises refusals after only their message crossed a boundary, and names the param', () => {
    const e = ReadRefusedError.notAFile('/dev/zero');
    expect(isReadRefusal(new Error(`Error invoking remote method: ${e.message}`))).toBe(true);
    expect(isReadRefusal(new Error('ENOENT'))).toBe(false);
    const doc = { nodes: [{ id: 'syn', params: {} }, { id: 'secret', params: { path: '/etc/passwd' } }, { id: 'm', params: { path: 'model/' } }] };
    expect(refusalIssues(doc, [{ nodeId: 'secret', path: '/etc/passwd', message: 'm1' }, { nodeId: 'm', path: 'model/config.json', message: 'm2' }, { nodeId: 'syn', path: 'x', message: 'm3' }])).toEqual([
      { path: 'nodes[1].params.path', nodeId: 'secret', message: 'm1' },
      { path: 'nodes[2].params.path', nodeId: 'm', message: 'm2' },
      { path: 'nodes[0]', nodeId: 'syn', message: 'm3' },
    ]);
  });

  it('confines the in-process API too: a node reading through ctx.readFile at run time is stopped there', async () => {
    // runPipeline prepares the document as `ctxlab run` does: source.text asks for the file's head, and
    // the refusal stops the run there, as an issue at the path param, before anything runs.
    const doc = (path: string) => ({
      format: 'context-lab/pipeline', version: 1, name: 'reads',
      nodes: [{ id: 'secret', type: 'source.text', params: { path } }, { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' } }],
      edges: [{ from: 'secret.text', to: 'tok.text' }],
    });
    const err = await runPipeline(doc('../outside/secret.txt'), { baseDir: pipes }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineLoadError);
    expect((err as PipelineLoadError).issues).toEqual([
      { path: 'nodes[0].params.path', nodeId: 'secret', message: expect.stringContaining(`read refused: ${join(outside, 'secret.txt')} is outside`) },
    ]);
    const run = await runPipeline(doc('../outside/secret.txt'), { baseDir: pipes, allowRead: [outside] });
    expect(run.status).toBe('ok');
    expect((await runPipeline(doc('a.txt'), { baseDir: pipes })).status).toBe('ok');
  });

  it('the engine service (what the workers run) stops a run at the first refused read and names the param', async () => {
    // A node that reads two files of a folder through ctx.readFile, with no `prepare` to catch it early.
    const reader = defineNode({
      type: 'test.folder-reader', family: 'source', title: 'reader', summary: '', references: [],
      params: z.object({ folder: z.string() }),
      inputs: {}, outputs: { text: { kind: 'text' } },
      infer: () => ({ text: { kind: 'text' } }),
      async run(ctx, _ins, p) {
        const a = await ctx.readFile(`${p.folder}/config.json`).catch((err: Error) => {
          throw new Error(`could not load the model: ${err.message}`); // wrapping must not hide the refusal
        });
        return { text: textValue(new TextDecoder().decode(a)) };
      },
      flags: { volatile: true },
    });
    const registry = createRegistry().register(reader);
    const service = new EngineService(registry, {
      setup: nodeBackendSetup('test'),
      readFile: (p, access) => ReadPolicy.of(access).read(p),
      readHead: (p, access) => ReadPolicy.of(access).reader().readHead(p),
      resolvePath: (base, p) => join(base, p),
      now: () => performance.now(),
    });
    writeFileSync(join(outside, 'config.json'), '{}');
    const doc = (folder: string) => ({
      format: 'context-lab/pipeline', version: 1, name: 'folder',
      nodes: [{ id: 'm', type: 'test.folder-reader', params: { folder } }, { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' } }],
      edges: [{ from: 'm.text', to: 'tok.text' }],
    });
    const refused = await service.run(doc('../outside'), { backend: 'cpu', baseDir: pipes });
    expect(refused).toEqual({ ok: false, stage: 'invalid', issues: [{ path: 'nodes[0].params.folder', nodeId: 'm', message: expect.stringContaining(`read refused: ${join(outside, 'config.json')} is outside`) }] });
    expect(await service.run(doc('../outside'), { backend: 'cpu', baseDir: pipes, allowRead: [outside] })).toMatchObject({ ok: true, status: 'ok' });
    expect(await service.run(doc('model'), { backend: 'cpu', baseDir: pipes })).toMatchObject({ ok: true, status: 'ok' });
  });
});
