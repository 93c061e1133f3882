// IPC handlers of the desktop Host API. Every argument is validated with zod before use; the
// handlers take their Electron pieces (dialogs, userData folder) as dependencies, so they are tested
// in plain Node.
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { CHANNELS, type AutosaveEntry, type Channel, type OpenedFile, type RecentFile, type SavedFile } from '../preload/api.js';
import { atomicWrite, RecentFiles } from './files.js';

export interface HandlerDeps {
  userDataDir: string;
  showOpenDialog(): Promise<string | null>;
  showSaveDialog(suggestedName: string): Promise<string | null>;
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
  [CHANNELS.save]: z.tuple([JsonPath, Text]),
  [CHANNELS.saveAs]: z.tuple([FileName, Text]),
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

export function createHandlers(deps: HandlerDeps): Handlers {
  const now = deps.now ?? (() => new Date());
  const recent = new RecentFiles(join(deps.userDataDir, 'recent.json'));
  const autosaveFile = join(deps.userDataDir, 'autosave.json');
  // Paths the user picked in a dialog or opened this session: the only ones `save` may write.
  const writable = new Set<string>();
  // Folders of those pipelines: data files their params name (.npy, text) are read from there or below.
  const readableDirs = new Set<string>();
  const grant = (file: string) => {
    writable.add(file);
    readableDirs.add(dirname(file));
  };
  const MAX_DATA_BYTES = 2 * 1024 * 1024 * 1024;

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
    [CHANNELS.openPath]: async (path) => openFile(path),
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
      const full = resolve(path);
      const allowed = [...readableDirs].some((d) => full.startsWith(d.endsWith(sep) ? d : d + sep));
      if (!allowed) throw new Error(`read: ${full} is not in the folder of a pipeline opened in this session`);
      const s = await stat(full);
      if (!s.isFile()) throw new Error(`${full} is not a file`);
      if (s.size > MAX_DATA_BYTES) throw new Error(`${full} is larger than 2 GiB`);
      return new Uint8Array(await readFile(full));
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
