// Ranged reads of a file on a Node file system (RunContext.openFile): the size up front, then each
// range read by its own open → read → close, so no handle outlives a read. `openChecked` is how the
// read policy opens a file (confinement, regular file, size limit); every range goes through it again.
import { open, type FileHandle } from 'node:fs/promises';
import type { RandomAccessFile } from '../node.js';

type Opened = { handle: FileHandle; size: number };

/** Reads exactly `length` bytes at `offset`, failing rather than returning fewer (a file that shrank). */
async function readExactly(handle: FileHandle, path: string, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let n = 0;
  while (n < length) {
    const { bytesRead } = await handle.read(buf, n, length - n, offset + n);
    if (bytesRead === 0) throw new Error(`${path}: ended at byte ${offset + n} while reading [${offset}, ${offset + length}) (the file changed?)`);
    n += bytesRead;
  }
  return buf;
}

export async function openRandomAccess(path: string, openChecked: (path: string) => Promise<Opened> = openPlain): Promise<RandomAccessFile> {
  const first = await openChecked(path);
  let version: string;
  try {
    version = `${first.size}:${(await first.handle.stat()).mtimeMs}`;
  } finally {
    await first.handle.close();
  }
  const size = first.size;
  return {
    size,
    version,
    async read(offset, length) {
      if (!(offset >= 0 && length >= 0 && offset + length <= size)) throw new Error(`${path}: read of [${offset}, ${offset + length}) is outside the file's ${size} bytes`);
      const { handle } = await openChecked(path);
      try {
        return await readExactly(handle, path, offset, length);
      } finally {
        await handle.close();
      }
    },
  };
}

async function openPlain(path: string): Promise<Opened> {
  const handle = await open(path, 'r');
  try {
    return { handle, size: (await handle.stat()).size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
