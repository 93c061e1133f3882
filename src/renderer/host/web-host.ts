// The browser host (`npm run web`): the File System Access API where the browser has it (save goes
// back to the same file), else upload and download; autosave and recent files in IndexedDB.
import type { ExportKind, Host, HostFile, RecentEntry, SavedRef } from './host.js';
import { KeyValueDb } from './idb.js';

interface FsHandle {
  kind: 'file';
  name: string;
  getFile(): Promise<File>;
  createWritable(): Promise<{ write(data: string): Promise<void>; close(): Promise<void> }>;
  queryPermission?(o: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
  requestPermission?(o: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
}
interface FsWindow {
  showOpenFilePicker?(o: unknown): Promise<FsHandle[]>;
  showSaveFilePicker?(o: unknown): Promise<FsHandle>;
}

const TYPES = [{ description: 'Context Lab pipeline', accept: { 'application/json': ['.json'] } }];
const EXPORT_TYPES: Record<ExportKind, { description: string; accept: Record<string, string[]> }> = {
  typescript: { description: 'TypeScript module', accept: { 'text/typescript': ['.ts'] } },
  json: TYPES[0]!,
};
const MIME: Record<ExportKind, string> = { typescript: 'text/typescript', json: 'application/json' };
const MAX_RECENT = 10;

interface StoredRecent extends RecentEntry {
  handle: FsHandle;
}

const isAbort = (err: unknown) => (err as Error)?.name === 'AbortError';

export class WebHost implements Host {
  readonly kind = 'web' as const;
  private readonly db = new KeyValueDb();
  private readonly fs: FsWindow;

  /** `useFileSystemAccess: false` forces upload/download (tests, browsers without the API). */
  constructor(opts: { useFileSystemAccess?: boolean } = {}) {
    const w = window as unknown as FsWindow;
    this.fs = opts.useFileSystemAccess === false ? {} : w;
  }

  async open(): Promise<HostFile | null> {
    if (this.fs.showOpenFilePicker) {
      try {
        const [handle] = await this.fs.showOpenFilePicker({ types: TYPES, multiple: false });
        if (!handle) return null;
        const file = await handle.getFile();
        await this.remember(handle);
        return { name: handle.name, text: await file.text(), id: handle };
      } catch (err) {
        if (isAbort(err)) return null;
        throw err;
      }
    }
    const file = await pickFile();
    return file ? { name: file.name, text: await file.text() } : null;
  }

  async openRecent(key: string): Promise<HostFile> {
    const list = (await this.db.get<StoredRecent[]>('recent')) ?? [];
    const entry = list.find((r) => r.key === key);
    if (!entry) throw new Error('that file is no longer in the recent list');
    const h = entry.handle;
    if (h.queryPermission && (await h.queryPermission({ mode: 'read' })) !== 'granted') {
      if ((await h.requestPermission?.({ mode: 'read' })) !== 'granted') throw new Error(`no permission to read ${h.name}`);
    }
    await this.remember(h);
    return { name: h.name, text: await (await h.getFile()).text(), id: h };
  }

  async openDropped(file: File): Promise<HostFile> {
    return { name: file.name, text: await file.text() };
  }

  async save(name: string, id: unknown, text: string): Promise<SavedRef | null> {
    const h = id as FsHandle | undefined;
    if (!h?.createWritable) return this.saveAs(name, text);
    if (h.queryPermission && (await h.queryPermission({ mode: 'readwrite' })) !== 'granted') {
      if ((await h.requestPermission?.({ mode: 'readwrite' })) !== 'granted') return this.saveAs(name, text);
    }
    await write(h, text);
    await this.remember(h);
    return { name: h.name, id: h };
  }

  async saveAs(name: string, text: string): Promise<SavedRef | null> {
    if (this.fs.showSaveFilePicker) {
      try {
        const h = await this.fs.showSaveFilePicker({ suggestedName: name, types: TYPES });
        await write(h, text);
        await this.remember(h);
        return { name: h.name, id: h };
      } catch (err) {
        if (isAbort(err)) return null;
        throw err;
      }
    }
    download(name, text);
    return { name };
  }

  async exportFile(name: string, text: string, kind: ExportKind): Promise<SavedRef | null> {
    if (this.fs.showSaveFilePicker) {
      try {
        const h = await this.fs.showSaveFilePicker({ suggestedName: name, types: [EXPORT_TYPES[kind]] });
        await write(h, text);
        return { name: h.name };
      } catch (err) {
        if (isAbort(err)) return null;
        throw err;
      }
    }
    download(name, text, MIME[kind]);
    return { name };
  }

  async recent(): Promise<RecentEntry[]> {
    const list = (await this.db.get<StoredRecent[]>('recent')) ?? [];
    return list.map(({ key, name, detail, openedAt }) => ({ key, name, detail, openedAt }));
  }

  async autosave(text: string): Promise<void> {
    await this.db.set('autosave', { text, savedAt: new Date().toISOString() });
  }

  async recover(): Promise<{ text: string; savedAt: string } | null> {
    return (await this.db.get<{ text: string; savedAt: string }>('autosave')) ?? null;
  }

  async clearAutosave(): Promise<void> {
    await this.db.delete('autosave');
  }

  private async remember(handle: FsHandle): Promise<void> {
    try {
      const list = (await this.db.get<StoredRecent[]>('recent')) ?? [];
      const kept: StoredRecent[] = [];
      for (const r of list) {
        const same = await (r.handle as unknown as { isSameEntry?(o: unknown): Promise<boolean> }).isSameEntry?.(handle);
        if (!same && r.name !== handle.name) kept.push(r);
      }
      const entry: StoredRecent = { key: `${Date.now()}-${handle.name}`, name: handle.name, openedAt: new Date().toISOString(), handle };
      await this.db.set('recent', [entry, ...kept].slice(0, MAX_RECENT));
    } catch {
      // Recent files are a convenience; a browser that cannot store handles just has none.
    }
  }
}

async function write(h: FsHandle, text: string) {
  const w = await h.createWritable();
  await w.write(text);
  await w.close();
}

function pickFile(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.json,application/json';
    input.addEventListener('change', () => resolve(input.files?.[0] ?? null), { once: true });
    input.addEventListener('cancel', () => resolve(null), { once: true });
    input.click();
  });
}

function download(name: string, text: string, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
