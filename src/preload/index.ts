// Preload (sandboxed, CommonJS): exposes the typed desktop API and nothing else. Every call goes
// through ipcRenderer.invoke to a zod-validated handler in main.
// @ts-ignore -- the electron package is optional (its binary is not downloadable everywhere); see PLATFORM.md
import * as electron from 'electron';
import { CHANNELS, MENU_CHANNEL, MENU_COMMANDS, type DesktopApi, type MenuCommand } from './api.js';

interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  };
  webUtils: { getPathForFile(file: File): string };
}
const { contextBridge, ipcRenderer, webUtils } = electron as unknown as PreloadElectron;

const invoke = <T>(channel: string, ...args: unknown[]) => ipcRenderer.invoke(channel, ...args) as Promise<T>;

const api: DesktopApi = {
  openDialog: () => invoke(CHANNELS.openDialog),
  openPath: (path) => invoke(CHANNELS.openPath, path),
  save: (path, text) => invoke(CHANNELS.save, path, text),
  saveAs: (name, text) => invoke(CHANNELS.saveAs, name, text),
  exportAs: (name, text, kind) => invoke(CHANNELS.exportAs, name, text, kind),
  recent: () => invoke(CHANNELS.recent),
  autosaveWrite: (text) => invoke(CHANNELS.autosaveWrite, text),
  autosaveRead: () => invoke(CHANNELS.autosaveRead),
  autosaveClear: () => invoke(CHANNELS.autosaveClear),
  readData: (path) => invoke(CHANNELS.readData, path),
  openDropped: async (file) => {
    const path = webUtils.getPathForFile(file);
    if (!path) throw new Error(`${file.name}: not a file on disk`);
    return invoke(CHANNELS.openDropped, path);
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  onMenu(listener) {
    const wrapped = (_e: unknown, command: unknown) => {
      if (MENU_COMMANDS.includes(command as MenuCommand)) listener(command as MenuCommand);
    };
    ipcRenderer.on(MENU_CHANNEL, wrapped);
    return () => ipcRenderer.removeListener(MENU_CHANNEL, wrapped);
  },
};

contextBridge.exposeInMainWorld('ctxlab', api);
