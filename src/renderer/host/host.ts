// What the renderer needs from where it runs (Electron or a browser): files, recent files, autosave.
// The app talks only to this interface.
import type { ExportKind, MenuCommand } from '../../preload/api.js';

export type { ExportKind };

export interface HostFile {
  name: string;
  text: string;
  /** Identity for saving back: a path (Electron) or a FileSystemFileHandle (web). */
  id?: unknown;
}

export interface SavedRef {
  name: string;
  id?: unknown;
}

export interface RecentEntry {
  key: string;
  name: string;
  detail?: string;
  openedAt: string;
}

export interface Host {
  kind: 'electron' | 'web';
  /** Shows an open dialog (or file picker); null when cancelled. */
  open(): Promise<HostFile | null>;
  openRecent(key: string): Promise<HostFile>;
  /** A file dropped on the window. */
  openDropped(file: File): Promise<HostFile>;
  /** Saves back to `id` when the host can; otherwise behaves as saveAs. Null when cancelled. */
  save(name: string, id: unknown, text: string): Promise<SavedRef | null>;
  saveAs(name: string, text: string): Promise<SavedRef | null>;
  /**
   * Writes an export (a TypeScript module, the pipeline JSON) where the user chooses: a save dialog,
   * or a download. It does not become the document's file. Null when cancelled.
   */
  exportFile(name: string, text: string, kind: ExportKind): Promise<SavedRef | null>;
  recent(): Promise<RecentEntry[]>;
  autosave(text: string): Promise<void>;
  recover(): Promise<{ text: string; savedAt: string } | null>;
  clearAutosave(): Promise<void>;
  /** The folder that relative paths in a pipeline's params resolve against, for a file id. */
  baseDirOf?(id: unknown): string | undefined;
  /** Reads a data file named in params (absolute path under baseDirOf); absent where the worker fetches. */
  readData?(path: string): Promise<Uint8Array>;
  /** Native menu commands (Electron); returns the unsubscribe function. */
  onMenu?(listener: (cmd: MenuCommand) => void): () => void;
}
