// The read policy on a real file system (see ../io/read-policy.ts for the rules and why): the CLI,
// the Node worker, the public API and the Electron main process all read pipeline files through it.
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { DEFAULT_MAX_READ_BYTES, ReadRefusedError, type PipelineReader, type ReadAccess } from '../io/read-policy.js';
import type { FileHead } from '../node.js';

/** Whether `path` is `root` or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

// O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
// O_NOFOLLOW: the checked real path must not have become a symlink since (last component).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

export interface OpenedFile {
  handle: FileHandle;
  /** The real path that was checked and opened. */
  path: string;
  size: number;
}

export class ReadPolicy {
  readonly roots: string[];
  readonly maxBytes: number;
  private realRoots: Promise<string[]> | undefined;

  /** `roots[0]` is the folder relative paths resolve against. */
  constructor(roots: string[], maxBytes = DEFAULT_MAX_READ_BYTES) {
    this.roots = roots.map((r) => resolve(r));
    this.maxBytes = maxBytes;
  }

  static of(access: ReadAccess): ReadPolicy {
    return new ReadPolicy([access.baseDir, ...(access.allowRead ?? [])], access.maxBytes);
  }

  /** Allows one more folder (and below), e.g. after the user confirmed it. */
  allow(dir: string): void {
    const root = resolve(dir);
    if (this.roots.includes(root)) return;
    this.roots.push(root);
    this.realRoots = undefined;
  }

  /** The roots with symlinks resolved; a root that does not exist allows nothing. */
  private real(): Promise<string[]> {
    this.realRoots ??= Promise.all(this.roots.map((r) => realpath(r).catch(() => undefined))).then((rs) => rs.filter((r): r is string => !!r));
    return this.realRoots;
  }

  /**
   * The real path of `path` when the policy allows reading it. Throws ReadRefusedError when it is
   * outside every root, or the file system's error (ENOENT, …) when it cannot be resolved.
   */
  async check(path: string): Promise<string> {
    const full = resolve(this.roots[0] ?? '.', path);
    const roots = await this.real();
    let real: string;
    try {
      real = await realpath(full);
    } catch (err) {
      // Whether a file outside exists is none of the pipeline's business: outside is refused, found or not.
      if (![...this.roots, ...roots].some((r) => isInside(r, full))) throw ReadRefusedError.outside(full, full, dirname(full), this.roots);
      throw err;
    }
    if (!roots.some((r) => isInside(r, real))) throw ReadRefusedError.outside(full, real, dirname(real), this.roots);
    return real;
  }

  /**
   * Opens a file the policy allows: a regular file within the size limit (`maxBytes`: another limit,
   * for ranged readers that never hold the whole file). The caller closes the handle.
   */
  async open(path: string, maxBytes = this.maxBytes): Promise<OpenedFile> {
    const real = await this.check(path);
    const handle = await open(real, OPEN_FLAGS);
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw ReadRefusedError.notAFile(resolve(this.roots[0] ?? '.', path));
      if (st.size > maxBytes) throw ReadRefusedError.tooLarge(resolve(this.roots[0] ?? '.', path), st.size, maxBytes);
      return { handle, path: real, size: st.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** A whole file. Stops at the size limit even when the file grows while it is read. */
  async read(path: string): Promise<Uint8Array> {
    const { handle, size } = await this.open(path);
    try {
      let buf = new Uint8Array(size);
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          // Full at the size fstat reported: done, unless the file has more (it grew, or /proc reports 0).
          const probe = new Uint8Array(1);
          if ((await handle.read(probe, 0, 1, n)).bytesRead === 0) break;
          if (n + 1 > this.maxBytes) throw ReadRefusedError.tooLarge(resolve(this.roots[0] ?? '.', path), undefined, this.maxBytes);
          const next = new Uint8Array(Math.min(this.maxBytes, Math.max(64 * 1024, buf.length * 2)));
          next.set(buf.subarray(0, n));
          next[n++] = probe[0]!;
          buf = next;
          continue;
        }
        const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return n === buf.length ? buf : buf.slice(0, n);
    } finally {
      await handle.close();
    }
  }

  /** The first `bytes` of a file (a .npy header) and its size. */
  async readHead(path: string, bytes = 65_552): Promise<FileHead> {
    const { handle, size } = await this.open(path);
    try {
      const buf = new Uint8Array(bytes);
      const { bytesRead } = await handle.read(buf, 0, bytes, 0);
      return { bytes: buf.subarray(0, bytesRead), size };
    } finally {
      await handle.close();
    }
  }

  /** As a PipelineReader: readHead answers undefined for files that cannot be read, and throws refusals. */
  reader(): Required<PipelineReader> {
    return {
      read: (p) => this.read(p),
      readHead: (p) =>
        this.readHead(p).catch((err) => {
          if (err instanceof ReadRefusedError) throw err;
          return undefined;
        }),
    };
  }
}

/** The reader of one run in Node: confined to the pipeline's folder and the allowed ones. */
export function nodeReader(access: ReadAccess): Required<PipelineReader> {
  return ReadPolicy.of(access).reader();
}
