// The main process's wiring, with the electron module mocked: switches, window security, IPC.
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../preload/api.js';

const calls = vi.hoisted(() => ({
  switches: [] as [string, string | undefined][],
  windows: [] as Record<string, any>[],
  handled: [] as string[],
  schemes: [] as unknown[],
  permission: undefined as undefined | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
  ready: undefined as undefined | (() => void),
}));

vi.mock('electron', () => {
  const webContents = { on: vi.fn(), setWindowOpenHandler: vi.fn(), send: vi.fn() };
  class BrowserWindow {
    webContents = webContents;
    constructor(opts: Record<string, any>) {
      calls.windows.push(opts);
    }
    once() {}
    show() {}
    loadURL = vi.fn(async () => {});
    static getAllWindows = () => [];
  }
  return {
    app: {
      commandLine: { appendSwitch: (n: string, v?: string) => calls.switches.push([n, v]) },
      whenReady: () => new Promise<void>((resolve) => (calls.ready = resolve)),
      getPath: () => '/tmp/ctxlab-test-userdata',
      on: vi.fn(),
      quit: vi.fn(),
    },
    BrowserWindow,
    dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() },
    ipcMain: { handle: (c: string) => calls.handled.push(c) },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => calls.schemes.push(...s), handle: vi.fn() },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: typeof calls.permission) => (calls.permission = h),
        setPermissionCheckHandler: vi.fn(),
      },
    },
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: vi.fn() },
  };
});

describe('main process', () => {
  it('enables WebGPU, opens one locked-down window and registers every IPC channel', async () => {
    const main = await import('./index.js');
    expect(calls.switches).toContainEqual(['enable-unsafe-webgpu', undefined]);
    expect(calls.switches).toContainEqual(['enable-features', 'Vulkan']);
    expect(calls.schemes).toHaveLength(1);
    calls.ready!();
    await vi.waitFor(() => expect(calls.windows).toHaveLength(1));
    const prefs = calls.windows[0]!.webPreferences;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(prefs.preload).toMatch(/preload[\\/]index\.cjs$/);
    expect(calls.handled.sort()).toEqual(Object.values(CHANNELS).sort());
    const denied = vi.fn();
    calls.permission!(null, 'media', denied);
    expect(denied).toHaveBeenCalledWith(false);
    expect(main.isTrustedUrl('app://ctxlab/index.html')).toBe(true);
    expect(main.isTrustedUrl('https://example.com/')).toBe(false);
  });
});
