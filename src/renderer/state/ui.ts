// View state that is not part of the document: theme, panels, overlays, toasts, preview target.
import { createStore } from './store.js';

export type Theme = 'dark' | 'light';
export type HeatMode = 'off' | 'ms' | 'memory';
export type BottomTab = 'timeline' | 'memory' | 'table' | 'metrics' | 'sweep' | 'preview' | 'kv' | 'position' | 'model-memory' | 'perplexity' | 'passkey' | 'problems';

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'ok';
  text: string;
  /** A button on the toast (e.g. Undo). */
  action?: { label: string; run: () => void };
}

export interface UiState {
  theme: Theme;
  heat: HeatMode;
  /** The accuracy overlay: approximate nodes coloured by their error against the exact computation. */
  accuracy: boolean;
  snap: boolean;
  tab: BottomTab;
  panelOpen: boolean;
  panelHeight: number;
  preview?: { node: string; port: string };
  quickAdd?: { screen: { x: number; y: number }; flow: { x: number; y: number } };
  help: boolean;
  start: boolean;
  toasts: Toast[];
  /** Set while the pipeline name is being edited, etc. */
  recovery?: { text: string; savedAt: string };
}

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem('ctxlab.theme');
    if (saved === 'dark' || saved === 'light') return saved;
  } catch {
    /* storage may be unavailable */
  }
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function createUi() {
  const store = createStore<UiState>({
    theme: initialTheme(),
    heat: 'off',
    accuracy: false,
    snap: true,
    tab: 'timeline',
    panelOpen: true,
    panelHeight: 260,
    help: false,
    start: true,
    toasts: [],
  });
  let toastId = 0;
  return {
    store,
    set: (patch: Partial<UiState>) => store.set((s) => ({ ...s, ...patch })),
    toast(text: string, kind: Toast['kind'] = 'info', ms = 4500, action?: Toast['action']) {
      const id = ++toastId;
      store.set((s) => ({ ...s, toasts: [...s.toasts.slice(-3), { id, kind, text, action }] }));
      setTimeout(() => store.set((s) => ({ ...s, toasts: s.toasts.filter((t) => t.id !== id) })), ms);
      return id;
    },
    /** Removes toasts (of one kind, or all, or one by id). */
    dismissToasts(which?: Toast['kind'] | number) {
      store.set((s) => ({ ...s, toasts: s.toasts.filter((t) => which !== undefined && t.kind !== which && t.id !== which) }));
    },
    setTheme(theme: Theme) {
      try {
        localStorage.setItem('ctxlab.theme', theme);
      } catch {
        /* ignore */
      }
      store.set((s) => ({ ...s, theme }));
    },
    showTab(tab: BottomTab) {
      store.set((s) => ({ ...s, tab, panelOpen: true }));
    },
  };
}
export type Ui = ReturnType<typeof createUi>;
