// Atomic file writes: a temporary file in the same folder, then a rename, so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileHead } from '../node.js';

/**
 * Writes `data` to `path` through a temporary file in the same folder: an unpredictable name opened
 * exclusively ('wx': a file or symlink planted at that name fails the open rather than being written
 * through), flushed to disk, then renamed over `path`. On any failure the temporary file is removed.
 */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The first bytes of a file (enough for any .npy header) and its size, or undefined when it cannot be
 * read. Unconfined: files a pipeline names are read through ReadPolicy (read-policy.ts) instead.
 */
export async function readFileHead(path: string, bytes = 65_552): Promise<FileHead | undefined> {
  try {
    const f = await open(path, 'r');
    try {
      const buf = new Uint8Array(bytes);
      const { bytesRead } = await f.read(buf, 0, bytes, 0);
      return { bytes: buf.subarray(0, bytesRead), size: (await f.stat()).size };
    } finally {
      await f.close();
    }
  } catch {
    return undefined;
  }
}
