import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWrite, MAX_RECENT, RecentFiles } from './files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-files-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('atomicWrite', () => {
  it('replaces the file whole and leaves no temporary file', async () => {
    const p = join(dir, 'sub', 'p.json');
    await atomicWrite(p, 'first');
    await atomicWrite(p, 'second');
    expect(await readFile(p, 'utf8')).toBe('second');
    expect(await readdir(join(dir, 'sub'))).toEqual(['p.json']);
  });

  it('keeps the old content when the rename fails', async () => {
    const p = join(dir, 'target.json');
    await writeFile(p, 'old');
    // Renaming a file over a non-empty folder fails: the folder stands in for a failed write.
    const folder = join(dir, 'folder.json');
    await atomicWrite(join(folder, 'x'), 'x');
    await expect(atomicWrite(folder, 'new')).rejects.toThrow();
    expect(await readFile(p, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('RecentFiles', () => {
  it('keeps the most recent first, without duplicates, at most MAX_RECENT', async () => {
    const r = new RecentFiles(join(dir, 'recent.json'));
    for (let i = 0; i < MAX_RECENT + 3; i++) await r.add(`/p/${i}.json`, new Date(1000 * i));
    await r.add('/p/5.json', new Date(99_000));
    const list = await r.list();
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]).toEqual({ path: '/p/5.json', name: '5.json', openedAt: new Date(99_000).toISOString() });
    expect(list.filter((e) => e.path === '/p/5.json')).toHaveLength(1);
    expect(list[1]!.path).toBe(`/p/${MAX_RECENT + 2}.json`);
  });

  it('reads a corrupt list as empty', async () => {
    await writeFile(join(dir, 'recent.json'), '{not json');
    expect(await new RecentFiles(join(dir, 'recent.json')).list()).toEqual([]);
  });
});
