// The application menu: commands go to the renderer, which owns the document.
import type { MenuCommand } from '../preload/api.js';

export interface MenuItem {
  label?: string;
  role?: string;
  accelerator?: string;
  /** false: show the shortcut but leave the key to the page, which handles it (and text fields keep theirs). */
  registerAccelerator?: boolean;
  type?: 'separator';
  submenu?: MenuItem[];
  click?: () => void;
}

export function buildMenu(send: (cmd: MenuCommand) => void, dev: boolean): MenuItem[] {
  const cmd = (label: string, command: MenuCommand, accelerator?: string): MenuItem => ({
    label,
    accelerator,
    registerAccelerator: false,
    click: () => send(command),
  });
  return [
    {
      label: 'File',
      submenu: [
        cmd('New', 'new', 'CmdOrCtrl+N'),
        cmd('Open…', 'open', 'CmdOrCtrl+O'),
        { type: 'separator' },
        cmd('Save', 'save', 'CmdOrCtrl+S'),
        cmd('Save As…', 'save-as', 'CmdOrCtrl+Shift+S'),
        cmd('Export as TypeScript…', 'export-ts', 'CmdOrCtrl+E'),
        cmd('Export as JSON…', 'export-json', 'CmdOrCtrl+Shift+E'),
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        cmd('Undo', 'undo', 'CmdOrCtrl+Z'),
        cmd('Redo', 'redo', 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        // Roles keep native clipboard shortcuts in text fields; the canvas copies nodes on the same
        // copy/paste events.
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [
        cmd('Auto Layout', 'layout', 'L'),
        cmd('Fit View', 'fit', 'F'),
        { type: 'separator' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'resetZoom' },
        { role: 'togglefullscreen' },
        ...(dev ? [{ type: 'separator' as const }, { role: 'reload' }, { role: 'toggleDevTools' }] : []),
      ],
    },
    { label: 'Run', submenu: [cmd('Run', 'run', 'CmdOrCtrl+Enter')] },
    { label: 'Help', submenu: [cmd('Keyboard Shortcuts', 'help', '?')] },
  ];
}
