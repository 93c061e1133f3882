// The desktop host: the preload's `window.ctxlab` API (IPC to main: native dialogs, atomic writes,
// recent files and autosave in userData).
import type { DesktopApi, ExportKind } from '../../preload/api.js';
import type { Host, HostFile, RecentEntry, SavedRef } from './host.js';

export class ElectronHost implements Host {
  readonly kind = 'electron' as const;

  constructor(private readonly api: DesktopApi) {}

  async open(): Promise<HostFile | null> {
    const f = await this.api.openDialog();
    return f ? { name: f.name, text: f.text, id: f.path } : null;
  }

  async openRecent(key: string): Promise<HostFile> {
    const f = await this.api.openPath(key);
    return { name: f.name, text: f.text, id: f.path };
  }

  async openDropped(file: File): Promise<HostFile> {
    const path = this.api.pathForFile(file);
    if (path && path.toLowerCase().endsWith('.json')) {
      const f = await this.api.openDropped(file);
      return { name: f.name, text: f.text, id: f.path };
    }
    return { name: file.name, text: await file.text() };
  }

  async save(name: string, id: unknown, text: string): Promise<SavedRef | null> {
    if (typeof id !== 'string') return this.saveAs(name, text);
    const s = await this.api.save(id, text);
    return { name: s.name, id: s.path };
  }

  async saveAs(name: string, text: string): Promise<SavedRef | null> {
    const s = await this.api.saveAs(name, text);
    return s ? { name: s.name, id: s.path } : null;
  }

  async exportFile(name: string, text: string, kind: ExportKind): Promise<SavedRef | null> {
    const s = await this.api.exportAs(name, text, kind);
    return s ? { name: s.name, id: s.path } : null;
  }

  async recent(): Promise<RecentEntry[]> {
    return (await this.api.recent()).map((r) => ({ key: r.path, name: r.name, detail: r.path, openedAt: r.openedAt }));
  }

  autosave(text: string): Promise<void> {
    return this.api.autosaveWrite(text);
  }

  recover() {
    return this.api.autosaveRead();
  }

  clearAutosave(): Promise<void> {
    return this.api.autosaveClear();
  }

  baseDirOf(id: unknown): string | undefined {
    if (typeof id !== 'string') return undefined;
    const i = Math.max(id.lastIndexOf('/'), id.lastIndexOf('\\'));
    return i > 0 ? id.slice(0, i) : undefined;
  }

  readData(path: string): Promise<Uint8Array> {
    return this.api.readData(path);
  }

  onMenu(listener: Parameters<DesktopApi['onMenu']>[0]) {
    return this.api.onMenu(listener);
  }
}
