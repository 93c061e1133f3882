// writeAtomic: an unpredictable temporary name opened exclusively, flushed, renamed; nothing left behind.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeAtomic } from './files.js';

// Lets a test predict the temporary name, as an attacker who could guess it would.
const fixed = vi.hoisted(() => ({ bytes: undefined as Buffer | undefined }));
vi.mock('node:crypto', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:crypto')>();
  return { ...orig, randomBytes: (n: number) => fixed.bytes ?? orig.randomBytes(n) };
});

const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('writeAtomic', () => {
  it('writes the data, creating folders, and leaves no temporary file', async () => {
    const path = join(tmp, 'a', 'b', 'metrics.json');
    await writeAtomic(path, '{"x":1}\n');
    await writeAtomic(path, new Uint8Array([1, 2, 3])); // replaces
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(tmp, 'a', 'b'))).toEqual(['metrics.json']);
  });

  it('does not write through a file or symlink planted at the temporary name', async () => {
    const dir = join(tmp, 'planted');
    mkdirSync(dir);
    const victim = join(tmp, 'victim.txt');
    writeFileSync(victim, 'keep');
    fixed.bytes = Buffer.alloc(8, 0xab);
    try {
      symlinkSync(victim, join(dir, `.out.npy.${'ab'.repeat(8)}.tmp`));
      await expect(writeAtomic(join(dir, 'out.npy'), 'data')).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      fixed.bytes = undefined;
    }
    expect(readFileSync(victim, 'utf8')).toBe('keep');
    expect(existsSync(join(dir, 'out.npy'))).toBe(false);
    // The planted link is not ours to remove.
    expect(lstatSync(join(dir, `.out.npy.${'ab'.repeat(8)}.tmp`)).isSymbolicLink()).toBe(true);
  });

  it('removes its temporary file when the rename fails', async () => {
    const dir = join(tmp, 'fails');
    mkdirSync(join(dir, 'taken'), { recursive: true }); // a folder where the file should go: rename fails
    await expect(writeAtomic(join(dir, 'taken'), 'data')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('uses a different temporary name every time', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const path = join(tmp, 'names', 'f.txt');
      // Two writes of the same file at once both succeed: their temporary names differ.
      await Promise.all([writeAtomic(path, 'a'), writeAtomic(path, 'b')]);
      names.add(readFileSync(path, 'utf8'));
    }
    expect(readdirSync(join(tmp, 'names'))).toEqual(['f.txt']);
    expect([...names].every((n) => n === 'a' || n === 'b')).toBe(true);
  });
});
