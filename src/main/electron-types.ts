// The slice of Electron's API that main uses. The electron package is optional here (its binary
// cannot be downloaded on every build machine), so main types against this instead of its .d.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */

export interface WebContentsLike {
  on(event: string, listener: (...args: any[]) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  send(channel: string, ...args: unknown[]): void;
}

export interface WindowLike {
  webContents: WebContentsLike;
  once(event: string, listener: () => void): void;
  show(): void;
  loadURL(url: string): Promise<void>;
}

export interface ElectronMain {
  app: {
    commandLine: { appendSwitch(name: string, value?: string): void };
    whenReady(): Promise<void>;
    getPath(name: 'userData'): string;
    on(event: string, listener: (...args: any[]) => void): void;
    quit(): void;
  };
  BrowserWindow: { new (options: Record<string, unknown>): WindowLike; getAllWindows(): WindowLike[] };
  dialog: {
    showOpenDialog(options: Record<string, unknown>): Promise<{ canceled: boolean; filePaths: string[] }>;
    showSaveDialog(options: Record<string, unknown>): Promise<{ canceled: boolean; filePath?: string }>;
    showMessageBox(options: Record<string, unknown>): Promise<{ response: number }>;
  };
  ipcMain: { handle(channel: string, listener: (event: any, ...args: unknown[]) => unknown): void };
  protocol: {
    registerSchemesAsPrivileged(schemes: { scheme: string; privileges: Record<string, boolean> }[]): void;
    handle(scheme: string, handler: (request: { url: string }) => Promise<Response> | Response): void;
  };
  session: {
    defaultSession: {
      setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (ok: boolean) => void) => void): void;
      setPermissionCheckHandler(handler: () => boolean): void;
    };
  };
  Menu: { buildFromTemplate(template: unknown[]): unknown; setApplicationMenu(menu: unknown): void };
}
