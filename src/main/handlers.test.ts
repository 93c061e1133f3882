import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

  it('reads data files only from the folders of pipelines opened in this session', async () => {
    const h = createHandlers(deps);
    const data = join(dir, 'data', 'x.npy');
    await (await import('node:fs/promises')).mkdir(join(dir, 'data'));
    await writeFile(data, new Uint8Array([1, 2, 3]));
    await expect(h[CHANNELS.readData](data)).rejects.toThrow(/not in the folder/);
    const pipeline = join(dir, 'p.json');
    await writeFile(pipeline, '{}');
    await h[CHANNELS.openPath](pipeline);
    expect([...((await h[CHANNELS.readData](data)) as Uint8Array)]).toEqual([1, 2, 3]);
    await expect(h[CHANNELS.readData](join(dir, '..', 'elsewhere.npy'))).rejects.toThrow(/not in the folder/);
    await expect(h[CHANNELS.readData]('relative.npy')).rejects.toThrow(/absolute/);
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
