// Atomic file writes: a temporary file in the same folder, then a rename, so a reader never sees half a file.
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** The first bytes of a file (enough for any .npy header), or undefined when it cannot be read. */
export async function readFileHead(path: string, bytes = 65_552): Promise<Uint8Array | undefined> {
  try {
    const f = await open(path, 'r');
    try {
      const buf = new Uint8Array(bytes);
      const { bytesRead } = await f.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await f.close();
    }
  } catch {
    return undefined;
  }
}
