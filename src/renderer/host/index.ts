import type { DesktopApi } from '../../preload/api.js';
import { ElectronHost } from './electron-host.js';
import type { Host } from './host.js';
import { WebHost } from './web-host.js';

export type { Host, HostFile, RecentEntry, SavedRef } from './host.js';

/** ElectronHost when the preload exposed the desktop API, else WebHost (`?fs=basic` forces upload/download). */
export function createHost(): Host {
  const api = (window as unknown as { ctxlab?: DesktopApi }).ctxlab;
  if (api) return new ElectronHost(api);
  const basic = new URLSearchParams(location.search).get('fs') === 'basic';
  return new WebHost({ useFileSystemAccess: !basic });
}
