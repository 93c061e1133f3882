// IPC handlers of the desktop Host API. Every argument is validated with zod before use; the
// handlers take their Electron pieces (dialogs, userData folder) as dependencies, so they are tested
// in plain Node.
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { CHANNELS, EXPORT_KINDS, type AutosaveEntry, type Channel, type ExportKind, type OpenedFile, type RecentFile, type SavedFile } from '../preload/api.js';
import { atomicWrite, RecentFiles } from './files.js';
import { ReadRefusedError } from '../engine/io/read-policy.js';
import { ReadPolicy } from '../engine/node/read-policy.js';

export interface HandlerDeps {
  userDataDir: string;
  showOpenDialog(): Promise<string | null>;
  /** `kind`: what is saved, for the dialog's title and file filter (default: a pipeline). */
  showSaveDialog(suggestedName: string, kind?: ExportKind): Promise<string | null>;
  /**
   * Asks the user (a native dialog naming `folder`) whether pipelines may read files in `folder` and
   * below for the rest of the session: a pipeline asked for `path` there, outside the folders of the
   * pipelines opened. Absent: such reads are refused.
   */
  confirmRead?(folder: string, path: string): Promise<boolean>;
  now?: () => Date;
}

/** Pipelines are JSON files; the renderer may name only absolute .json paths. */
const JsonPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => isAbsolute(p), 'path must be absolute')
  .refine((p) => p.toLowerCase().endsWith('.json'), 'only .json files')
  .refine((p) => !p.includes('\0'), 'path holds a NUL character');
/** 64 MiB: far above any pipeline, below anything that would hurt the main process. */
const Text = z.string().max(64 * 1024 * 1024);
const FileName = z.string().min(1).max(255).regex(/^[^/\\\0]+$/, 'a file name without folders');

export const ARGS = {
  [CHANNELS.openDialog]: z.tuple([]),
  [CHANNELS.openPath]: z.tuple([JsonPath]),
  [CHANNELS.openDropped]: z.tuple([JsonPath]),
  [CHANNELS.save]: z.tuple([JsonPath, Text]),
  [CHANNELS.saveAs]: z.tuple([FileName, Text]),
  [CHANNELS.exportAs]: z.tuple([FileName, Text, z.enum(EXPORT_KINDS)]),
  [CHANNELS.recent]: z.tuple([]),
  [CHANNELS.autosaveWrite]: z.tuple([Text]),
  [CHANNELS.autosaveRead]: z.tuple([]),
  [CHANNELS.autosaveClear]: z.tuple([]),
  [CHANNELS.readData]: z.tuple([
    z.string().min(1).max(4096).refine((p) => isAbsolute(p), 'path must be absolute').refine((p) => !p.includes('\0'), 'path holds a NUL character'),
  ]),
} satisfies Record<Channel, z.ZodType>;

export type Handlers = Record<Channel, (...args: unknown[]) => Promise<unknown>>;

export class IpcArgumentError extends Error {
  constructor(channel: string, err: z.ZodError) {
    super(`${channel}: invalid arguments: ${err.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
    this.name = 'IpcArgumentError';
  }
}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
const EXPORT_EXT: Record<ExportKind, string> = { typescript: '.ts', json: '.json' };

export function createHandlers(deps: HandlerDeps): Handlers {
  const now = deps.now ?? (() => new Date());
  const recent = new RecentFiles(join(deps.userDataDir, 'recent.json'));
  const autosaveFile = join(deps.userDataDir, 'autosave.json');
  // Paths the user picked in a dialog or opened this session: the only ones `save` may write.
  const writable = new Set<string>();
  // Data files that params name (.npy, text) are read under the engine's read policy: from the
  // folders of those pipelines or below, and from folders the user allowed when asked; symlinks
  // resolved first, regular files only, at most 2 GiB (one IPC message).
  const MAX_DATA_BYTES = 2 * 1024 * 1024 * 1024;
  const reads = new ReadPolicy([], MAX_DATA_BYTES);
  // The user's answer per folder, asked once (concurrent reads share one dialog); a refusal is
  // forgotten when a pipeline is opened, so it can be asked again.
  const asked = new Map<string, Promise<boolean>>();
  const grant = (file: string) => {
    writable.add(file);
    reads.allow(dirname(file));
    for (const [folder, answer] of asked) void answer.then((ok) => ok || asked.delete(folder));
  };

  async function openFile(path: string): Promise<OpenedFile> {
    const full = resolve(path);
    const s = await stat(full);
    if (!s.isFile()) throw new Error(`${full} is not a file`);
    if (s.size > MAX_FILE_BYTES) throw new Error(`${full} is larger than 64 MiB`);
    const text = await readFile(full, 'utf8');
    grant(full);
    await recent.add(full, now());
    return { path: full, name: basename(full), text };
  }

  const impl: { [C in Channel]: (...args: z.infer<(typeof ARGS)[C]>) => Promise<unknown> } = {
    [CHANNELS.openDialog]: async () => {
      const path = await deps.showOpenDialog();
      return path ? openFile(path) : null;
    },
    // The page names a path here, so only files the user already chose: recent ones, or this session's.
    // (Opening any .json would grant its folder to the pipelines' reads.)
    [CHANNELS.openPath]: async (path) => {
      const full = resolve(path);
      if (!writable.has(full) && !(await recent.has(full)))
        throw new Error(`open: ${full} is neither a recent file nor one opened this session; use Open… or drop it on the window`);
      return openFile(full);
    },
    // The preload takes this path from a File the user dropped (webUtils), not from the page.
    [CHANNELS.openDropped]: async (path) => openFile(path),
    [CHANNELS.save]: async (path, text): Promise<SavedFile> => {
      const full = resolve(path);
      if (!writable.has(full)) throw new Error(`save: ${full} was not opened or chosen in this session; use Save As`);
      await atomicWrite(full, text);
      await recent.add(full, now());
      return { path: full, name: basename(full) };
    },
    [CHANNELS.saveAs]: async (name, text): Promise<SavedFile | null> => {
      const chosen = await deps.showSaveDialog(name);
      if (!chosen) return null;
      const full = resolve(chosen.toLowerCase().endsWith('.json') ? chosen : `${chosen}.json`);
      await atomicWrite(full, text);
      grant(full);
      await recent.add(full, now());
      return { path: full, name: basename(full) };
    },
    [CHANNELS.exportAs]: async (name, text, kind): Promise<SavedFile | null> => {
      const chosen = await deps.showSaveDialog(name, kind);
      if (!chosen) return null;
      const ext = EXPORT_EXT[kind];
      const full = resolve(chosen.toLowerCase().endsWith(ext) ? chosen : `${chosen}${ext}`);
      await atomicWrite(full, text);
      return { path: full, name: basename(full) };
    },
    [CHANNELS.recent]: async (): Promise<RecentFile[]> => recent.list(),
    [CHANNELS.autosaveWrite]: async (text) => {
      const entry: AutosaveEntry = { text, savedAt: now().toISOString() };
      await atomicWrite(autosaveFile, JSON.stringify(entry));
    },
    [CHANNELS.autosaveRead]: async (): Promise<AutosaveEntry | null> => {
      try {
        const e = JSON.parse(await readFile(autosaveFile, 'utf8')) as AutosaveEntry;
        return typeof e.text === 'string' && typeof e.savedAt === 'string' ? e : null;
      } catch {
        return null;
      }
    },
    [CHANNELS.autosaveClear]: async () => {
      await rm(autosaveFile, { force: true });
    },
    [CHANNELS.readData]: async (path): Promise<Uint8Array> => {
      try {
        return await reads.read(path);
      } catch (err) {
        if (!(err instanceof ReadRefusedError) || err.reason !== 'outside' || !err.folder || !deps.confirmRead) throw err;
        const folder = err.folder;
        let answer = asked.get(folder);
        if (!answer) asked.set(folder, (answer = deps.confirmRead(folder, err.path).catch(() => false)));
        if (!(await answer)) throw err;
        reads.allow(folder);
        return reads.read(path);
      }
    },
  };

  return Object.fromEntries(
    (Object.keys(ARGS) as Channel[]).map((channel) => [
      channel,
      async (...args: unknown[]) => {
        const parsed = ARGS[channel].safeParse(args);
        if (!parsed.success) throw new IpcArgumentError(channel, parsed.error);
        return (impl[channel] as (...a: unknown[]) => Promise<unknown>)(...(parsed.data as unknown[]));
      },
    ]),
  ) as Handlers;
}

interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame?: { url: string } | null }, ...args: unknown[]) => unknown): void;
}

/** Registers the handlers; calls from frames that are not the app's own page are refused. */
export function registerIpc(ipcMain: IpcMainLike, handlers: Handlers, isTrustedUrl: (url: string) => boolean): void {
  for (const [channel, handler] of Object.entries(handlers)) {
    ipcMain.handle(channel, (event, ...args) => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedUrl(url)) throw new Error(`${channel}: refused a call from ${url || 'an unknown frame'}`);
      return handler(...args);
    });
  }
}
