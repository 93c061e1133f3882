// File operations of the main process: atomic writes (temp file + rename, so a crash never leaves
// a half-written pipeline) and the recent-files list kept in userData.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RecentFile } from '../preload/api.js';
import { writeAtomic } from '../engine/node/files.js';

/** Writes `text` to `path` through an exclusive temporary file in the same folder, flushed, then renamed over. */
export const atomicWrite = (path: string, text: string): Promise<void> => writeAtomic(path, text);

export const MAX_RECENT = 10;

export class RecentFiles {
  constructor(private readonly file: string) {}

  async list(): Promise<RecentFile[]> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      if (!Array.isArray(data)) return [];
      return data.filter(
        (r): r is RecentFile => typeof r?.path === 'string' && typeof r?.name === 'string' && typeof r?.openedAt === 'string',
      );
    } catch {
      return [];
    }
  }

  /** Moves `path` to the front of the list (most recent first, no duplicates, at most MAX_RECENT). */
  async add(path: string, now = new Date()): Promise<RecentFile[]> {
    const list = (await this.list()).filter((r) => r.path !== path);
    list.unshift({ path, name: basename(path), openedAt: now.toISOString() });
    const trimmed = list.slice(0, MAX_RECENT);
    await atomicWrite(this.file, JSON.stringify(trimmed, null, 2));
    return trimmed;
  }

  async has(path: string): Promise<boolean> {
    return (await this.list()).some((r) => r.path === path);
  }
}
