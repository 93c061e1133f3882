// The desktop API that the preload script exposes as `window.ctxlab`: channel names and types shared
// by main, preload and renderer. No Electron imports here, so the renderer can import the types.

export const CHANNELS = {
  openDialog: 'file:open-dialog',
  openPath: 'file:open-path',
  save: 'file:save',
  saveAs: 'file:save-as',
  recent: 'recent:list',
  autosaveWrite: 'autosave:write',
  autosaveRead: 'autosave:read',
  autosaveClear: 'autosave:clear',
  readData: 'file:read-data',
  openDropped: 'file:open-dropped',
  exportAs: 'file:export-as',
} as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** Main → renderer: a menu command (same names as the renderer's command ids). */
export const MENU_CHANNEL = 'menu:command';
export const MENU_COMMANDS = ['new', 'open', 'save', 'save-as', 'export-ts', 'export-json', 'undo', 'redo', 'layout', 'fit', 'help', 'run'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** What an export writes: a standalone TypeScript module, or the pipeline JSON. */
export const EXPORT_KINDS = ['typescript', 'json'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface OpenedFile {
  path: string;
  name: string;
  text: string;
}

export interface SavedFile {
  path: string;
  name: string;
}

export interface RecentFile {
  path: string;
  name: string;
  openedAt: string;
}

export interface AutosaveEntry {
  text: string;
  savedAt: string;
}

export interface DesktopApi {
  openDialog(): Promise<OpenedFile | null>;
  /** Opens a recent file, or one opened or saved this session, by path; any other path is refused. */
  openPath(path: string): Promise<OpenedFile>;
  /**
   * Opens a .json file dropped on the window. The preload takes its path from the File itself
   * (webUtils), so the page cannot name a path of its choosing.
   */
  openDropped(file: File): Promise<OpenedFile>;
  /** Writes to a path this session opened or chose in a dialog (atomic: temp file + rename). */
  save(path: string, text: string): Promise<SavedFile>;
  saveAs(suggestedName: string, text: string): Promise<SavedFile | null>;
  /**
   * Writes an export where the user chooses in a save dialog (atomic). The file is not a pipeline of
   * this session: it is neither made writable by `save` nor listed as recent. Null when cancelled.
   */
  exportAs(suggestedName: string, text: string, kind: ExportKind): Promise<SavedFile | null>;
  recent(): Promise<RecentFile[]>;
  autosaveWrite(text: string): Promise<void>;
  autosaveRead(): Promise<AutosaveEntry | null>;
  autosaveClear(): Promise<void>;
  /**
   * Reads a data file that a pipeline names in its params (e.g. a .npy), from the folder of a
   * pipeline opened or saved this session (or below it), under the engine's read policy (symlinks
   * resolved, regular files only, at most 2 GiB). A file in another folder makes main ask the user,
   * in a native dialog naming the folder, whether pipelines may read it this session.
   */
  readData(path: string): Promise<Uint8Array>;
  /** The file-system path of a File dropped on the window (Electron's webUtils). */
  pathForFile(file: File): string;
  /** Subscribes to menu commands; returns the unsubscribe function. */
  onMenu(listener: (command: MenuCommand) => void): () => void;
}
