import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS } from '../preload/api.js';
import { createHandlers, registerIpc, type HandlerDeps } from './handlers.js';

let dir: string;
let deps: HandlerDeps & { nextOpen: string | null; nextSave: string | null };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-main-'));
  deps = {
    userDataDir: join(dir, 'userData'),
    nextOpen: null,
    nextSave: null,
    showOpenDialog: async () => deps.nextOpen,
    showSaveDialog: async () => deps.nextSave,
    now: () => new Date('2025-01-02T03:04:05Z'),
  };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('IPC handlers', () => {
  it('opens the file chosen in the dialog and records it as recent', async () => {
    const file = join(dir, 'a.json');
    await writeFile(file, '{"x":1}');
    deps.nextOpen = file;
    const h = createHandlers(deps);
    expect(await h[CHANNELS.openDialog]()).toEqual({ path: file, name: 'a.json', text: '{"x":1}' });
    expect(await h[CHANNELS.recent]()).toEqual([{ path: file, name: 'a.json', openedAt: '2025-01-02T03:04:05.000Z' }]);
  });

  it('returns null when a dialog is cancelled', async () => {
    const h = createHandlers(deps);
    expect(await h[CHANNELS.openDialog]()).toBeNull();
    expect(await h[CHANNELS.saveAs]('x.json', '{}')).toBeNull();
  });

  it('rejects invalid arguments before touching the disk', async () => {
    const h = createHandlers(deps);
    await expect(h[CHANNELS.openPath]('relative.json')).rejects.toThrow(/must be absolute/);
    await expect(h[CHANNELS.openPath]('/etc/passwd')).rejects.toThrow(/only .json files/);
    await expect(h[CHANNELS.openPath](42)).rejects.toThrow(/invalid arguments/);
    await expect(h[CHANNELS.save](join(dir, 'a.json'))).rejects.toThrow(/invalid arguments/);
    await expect(h[CHANNELS.saveAs]('../escape.json', '{}')).rejects.toThrow(/without folders/);
    await expect(h[CHANNELS.autosaveWrite]({ text: 'x' })).rejects.toThrow(/invalid arguments/);
  });

  it('saves only to paths opened or chosen in this session', async () => {
    const h = createHandlers(deps);
    const target = join(dir, 'elsewhere.json');
    await expect(h[CHANNELS.save](target, '{}')).rejects.toThrow(/use Save As/);
    deps.nextSave = join(dir, 'chosen');
    expect(await h[CHANNELS.saveAs]('p.json', '{"v":1}')).toEqual({ path: join(dir, 'chosen.json'), name: 'chosen.json' });
    expect(await readFile(join(dir, 'chosen.json'), 'utf8')).toBe('{"v":1}');
    await h[CHANNELS.save](join(dir, 'chosen.json'), '{"v":2}');
    expect(await readFile(join(dir, 'chosen.json'), 'utf8')).toBe('{"v":2}');
    // No temporary files are left behind by the atomic write.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('exports to the path chosen in the dialog, with the kind\'s extension, without granting it to save', async () => {
    const h = createHandlers(deps);
    let asked: unknown[] = [];
    deps.showSaveDialog = async (...a: unknown[]) => ((asked = a), join(dir, 'flash'));
    expect(await h[CHANNELS.exportAs]('flash.ts', 'export {};', 'typescript')).toEqual({ path: join(dir, 'flash.ts'), name: 'flash.ts' });
    expect(asked).toEqual(['flash.ts', 'typescript']);
    expect(await readFile(join(dir, 'flash.ts'), 'utf8')).toBe('export {};');
    // An export is not a pipeline of this session: not writable by save, not recent.
    await expect(h[CHANNELS.save](join(dir, 'flash.json'), '{}')).rejects.toThrow(/use Save As/);
    expect(await h[CHANNELS.recent]()).toEqual([]);
    await expect(h[CHANNELS.exportAs]('x.ts', 'x', 'python')).rejects.toThrow(/invalid arguments/);
    await expect(h[CHANNELS.exportAs]('../x.ts', 'x', 'typescript')).rejects.toThrow(/without folders/);
    deps.showSaveDialog = async () => null;
    expect(await h[CHANNELS.exportAs]('x.json', '{}', 'json')).toBeNull();
  });

  it('reads data files only from the folders of pipelines opened in this session', async () => {
    const h = createHandlers(deps);
    const data = join(dir, 'data', 'x.npy');
    await (await import('node:fs/promises')).mkdir(join(dir, 'data'));
    await writeFile(data, new Uint8Array([1, 2, 3]));
    await expect(h[CHANNELS.readData](data)).rejects.toThrow(/read refused: .* is outside the folders/);
    const pipeline = join(dir, 'p.json');
    await writeFile(pipeline, '{}');
    deps.nextOpen = pipeline;
    await h[CHANNELS.openDialog]();
    expect([...((await h[CHANNELS.readData](data)) as Uint8Array)]).toEqual([1, 2, 3]);
    await expect(h[CHANNELS.readData](join(dir, '..', 'elsewhere.npy'))).rejects.toThrow(/read refused/);
    await expect(h[CHANNELS.readData]('relative.npy')).rejects.toThrow(/absolute/);
  });

  it('resolves symlinks before the check, and reads only regular files (readData)', async () => {
    const h = createHandlers(deps);
    const pipes = join(dir, 'pipes');
    await mkdir(join(pipes, 'sub'), { recursive: true });
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await symlink(join(dir, 'secret.txt'), join(pipes, 'link.txt'));
    await writeFile(join(pipes, 'p.json'), '{}');
    deps.nextOpen = join(pipes, 'p.json');
    await h[CHANNELS.openDialog]();
    await expect(h[CHANNELS.readData](join(pipes, 'link.txt'))).rejects.toThrow(`resolves to ${join(dir, 'secret.txt')}`);
    await expect(h[CHANNELS.readData](join(pipes, 'sub'))).rejects.toThrow(/not a regular file/);
    await expect(h[CHANNELS.readData]('/dev/zero')).rejects.toThrow(/read refused/);
  });

  it('asks the user once per folder before reading outside, and reads only what was allowed', async () => {
    const asked: [string, string][] = [];
    let answer = false;
    const h = createHandlers({ ...deps, confirmRead: async (folder, path) => (asked.push([folder, path]), answer) });
    const pipes = join(dir, 'pipes');
    const other = join(dir, 'other');
    await mkdir(pipes);
    await mkdir(other);
    await writeFile(join(pipes, 'p.json'), '{}');
    await writeFile(join(other, 'x.npy'), new Uint8Array([7]));
    await writeFile(join(other, 'y.npy'), new Uint8Array([8]));
    deps.nextOpen = join(pipes, 'p.json');
    await h[CHANNELS.openDialog]();
    // Refused: the error says so, and concurrent reads of the folder share the one question.
    await Promise.all([
      expect(h[CHANNELS.readData](join(other, 'x.npy'))).rejects.toThrow(/read refused/),
      expect(h[CHANNELS.readData](join(other, 'y.npy'))).rejects.toThrow(/read refused/),
    ]);
    expect(asked).toEqual([[other, join(other, 'x.npy')]]);
    await expect(h[CHANNELS.readData](join(other, 'x.npy'))).rejects.toThrow(/read refused/);
    expect(asked).toHaveLength(1);
    // Opening a pipeline forgets the refusal; allowed, the folder (and only it) is readable this session.
    await h[CHANNELS.openDialog]();
    answer = true;
    expect([...((await h[CHANNELS.readData](join(other, 'x.npy'))) as Uint8Array)]).toEqual([7]);
    expect([...((await h[CHANNELS.readData](join(other, 'y.npy'))) as Uint8Array)]).toEqual([8]);
    expect(asked).toHaveLength(2);
    expect(asked[1]![0]).toBe(other);
  });

  it('opens by path only recent files and this session\'s; a dropped file comes through its own channel', async () => {
    const h = createHandlers(deps);
    const file = join(dir, 'shared.json');
    await writeFile(file, '{"x":1}');
    // Any .json used to open, granting its whole folder to the pipelines' reads.
    await expect(h[CHANNELS.openPath](file)).rejects.toThrow(/neither a recent file nor one opened this session/);
    await expect(h[CHANNELS.readData](file)).rejects.toThrow(/read refused/);
    expect(await h[CHANNELS.openDropped](file)).toEqual({ path: file, name: 'shared.json', text: '{"x":1}' });
    // Now recent: it opens by path, in this session and the next.
    expect(await h[CHANNELS.openPath](file)).toMatchObject({ path: file });
    expect(await createHandlers(deps)[CHANNELS.openPath](file)).toMatchObject({ path: file });
    await expect(h[CHANNELS.openDropped]('/etc/passwd')).rejects.toThrow(/only .json files/);
  });

  it('keeps the autosave across handler instances (a restart) and clears it', async () => {
    const h = createHandlers(deps);
    expect(await h[CHANNELS.autosaveRead]()).toBeNull();
    await h[CHANNELS.autosaveWrite]('{"name":"draft"}');
    const after = createHandlers(deps);
    expect(await after[CHANNELS.autosaveRead]()).toEqual({ text: '{"name":"draft"}', savedAt: '2025-01-02T03:04:05.000Z' });
    await after[CHANNELS.autosaveClear]();
    expect(await after[CHANNELS.autosaveRead]()).toBeNull();
  });

  it('refuses IPC calls from frames that are not the app', async () => {
    const registered = new Map<string, (event: { senderFrame?: { url: string } | null }, ...args: unknown[]) => unknown>();
    registerIpc({ handle: (c, l) => registered.set(c, l) }, createHandlers(deps), (url) => url.startsWith('app://ctxlab/'));
    expect([...registered.keys()].sort()).toEqual(Object.values(CHANNELS).sort());
    const list = registered.get(CHANNELS.recent)!;
    expect(() => list({ senderFrame: { url: 'https://evil.example/' } })).toThrow(/refused/);
    await expect(list({ senderFrame: { url: 'app://ctxlab/index.html' } })).resolves.toEqual([]);
  });
});
