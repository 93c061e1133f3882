// Electron main process: one window on the built renderer, a menu, native dialogs and the IPC
// handlers of the Host API. Thin on purpose: the engine runs in the renderer's worker.
// @ts-ignore -- the electron package is optional (its binary is not downloadable everywhere); see PLATFORM.md
import * as electronModule from 'electron';
import { fileURLToPath } from 'node:url';
import { createHandlers, registerIpc } from './handlers.js';
import { buildMenu } from './menu.js';
import { APP_ORIGIN, APP_SCHEME, serveApp } from './protocol.js';
import type { ElectronMain, WindowLike } from './electron-types.js';

const electron = electronModule as unknown as ElectronMain;
const { app, BrowserWindow, dialog, ipcMain, protocol, session, Menu } = electron;

// WebGPU is behind this switch on Linux (PLATFORM.md); both must be set before the app is ready.
app.commandLine.appendSwitch('enable-unsafe-webgpu');
app.commandLine.appendSwitch('enable-features', 'Vulkan');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true } },
]);

const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const devUrl = process.env.ELECTRON_RENDERER_URL;

export function isTrustedUrl(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`) || (!!devUrl && url.startsWith(devUrl));
}

function createWindow(): WindowLike {
  const win = new BrowserWindow({
    width: 1480,
    height: 920,
    minWidth: 900,
    minHeight: 600,
    title: 'Context Lab',
    backgroundColor: '#14161b',
    show: false,
    // Written out here (not in a variable) so that static checkers such as electronegativity see it.
    // Isolated, sandboxed, no Node in the page.
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click would open links in new windows.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  const wc = win.webContents;
  // The app never navigates or opens windows: links to papers are shown as text.
  wc.on('will-navigate', (e: { preventDefault(): void }, url: string) => {
    if (!isTrustedUrl(url)) e.preventDefault();
  });
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-attach-webview', (e: { preventDefault(): void }) => e.preventDefault());
  void win.loadURL(devUrl ?? `${APP_ORIGIN}/index.html`);
  return win;
}

void app.whenReady().then(() => {
  // No permission (camera, notifications, …) is ever granted to the page.
  session.defaultSession.setPermissionRequestHandler((_wc: unknown, _perm: string, callback: (ok: boolean) => void) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  protocol.handle(APP_SCHEME, (request: { url: string }) => serveApp(request.url, rendererDir));

  const handlers = createHandlers({
    userDataDir: app.getPath('userData'),
    async showOpenDialog() {
      const r = await dialog.showOpenDialog({ title: 'Open pipeline', properties: ['openFile'], filters: [{ name: 'Pipeline', extensions: ['json'] }] });
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async showSaveDialog(suggestedName: string, kind?: 'typescript' | 'json') {
      const title = kind === 'typescript' ? 'Export as TypeScript' : kind === 'json' ? 'Export as JSON' : 'Save pipeline';
      const filter = kind === 'typescript' ? { name: 'TypeScript', extensions: ['ts'] } : { name: 'Pipeline', extensions: ['json'] };
      const r = await dialog.showSaveDialog({ title, defaultPath: suggestedName, filters: [filter] });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    // The read policy's confirm: in main, so that the page cannot answer it for the user.
    async confirmRead(folder: string, path: string) {
      const r = await dialog.showMessageBox({
        type: 'warning',
        title: 'Allow reading a folder?',
        message: `Allow pipelines to read files in ${folder}?`,
        detail: `The pipeline asks for ${path}, which is outside its own folder. Pipelines shared by others can copy what they read into their outputs. If you allow it, pipelines may read ${folder} and its subfolders until you quit.`,
        buttons: ['Allow', 'Refuse'],
        defaultId: 1,
        cancelId: 1,
        noLink: true,
      });
      return r.response === 0;
    },
  });
  registerIpc(ipcMain, handlers, isTrustedUrl);

  const win = createWindow();
  Menu.setApplicationMenu(Menu.buildFromTemplate(buildMenu((cmd) => win.webContents.send('menu:command', cmd), !!devUrl)));
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
