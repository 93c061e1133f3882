// Every user command in one place: buttons, the keyboard and the Electron menu call these.
import type { ReactFlowInstance } from '@xyflow/react';
import type { App } from '../app-context.js';
import { canvasAspect, layoutGraph } from '../model/layout.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import type { Files } from '../state/files.js';

export interface Commands {
  newDoc(): void;
  open(): void;
  openRecent(key: string): Promise<void>;
  save(): Promise<boolean>;
  saveAs(): Promise<boolean>;
  exportTs(): Promise<boolean>;
  exportJson(): Promise<boolean>;
  undo(): void;
  redo(): void;
  deleteSelection(): void;
  duplicate(): void;
  selectAll(): void;
  layout(): Promise<void>;
  fit(): void;
  run(): Promise<void>;
  rerun(): Promise<void>;
  cancel(): void;
  help(): void;
  quickAdd(at?: { x: number; y: number }): void;
  toggleSnap(): void;
  cycleHeat(): void;
}

export function createCommands(app: App, files: Files, flow: () => ReactFlowInstance<FlowNode, FlowEdge> | null): Commands {
  const { editor, runner, ui, analysis } = app;
  const fit = () => flow()?.fitView({ padding: 0.12, maxZoom: 1, duration: 250 });

  const run = async (cache: boolean) => {
    const a = analysis.store.get();
    if (!a.ok) {
      ui.showTab('problems');
      ui.toast(`The pipeline has ${a.issues.length} problem${a.issues.length === 1 ? '' : 's'}; see Problems.`, 'error');
      return;
    }
    if (!editor.store.get().nodes.length) {
      ui.toast('Add some nodes first: drag them from the palette.', 'info');
      return;
    }
    await runner.run({ cache });
  };

  return {
    newDoc: () => void files.newDoc(),
    open: () => void files.open(),
    openRecent: (key) => files.openRecent(key),
    save: () => files.save(false),
    saveAs: () => files.save(true),
    exportTs: () => files.exportAs('typescript'),
    exportJson: () => files.exportAs('json'),
    undo: () => editor.undo(),
    redo: () => editor.redo(),
    deleteSelection: () => editor.deleteSelection(),
    duplicate: () => {
      const n = editor.duplicateSelection();
      if (n) ui.toast(`Duplicated ${n} node${n === 1 ? '' : 's'}`, 'info', 1500);
    },
    selectAll: () => editor.selectAll(),
    async layout() {
      const s = editor.store.get();
      if (!s.nodes.length) return;
      const pos = await layoutGraph(s.nodes, s.edges, app.catalog, { aspect: canvasAspect(document.querySelector('[data-testid="canvas"]')) });
      editor.setPositions(pos);
      requestAnimationFrame(fit);
    },
    fit,
    run: () => run(true),
    rerun: () => run(false),
    cancel: () => runner.cancel(),
    help: () => ui.set({ help: !ui.store.get().help }),
    quickAdd(at) {
      const f = flow();
      const screen = at ?? { x: window.innerWidth / 2 - 170, y: window.innerHeight / 3 };
      const flowPos = f ? f.screenToFlowPosition(screen) : { x: 0, y: 0 };
      ui.set({ quickAdd: { screen, flow: flowPos } });
    },
    toggleSnap: () => ui.set({ snap: !ui.store.get().snap }),
    cycleHeat: () => {
      const order = ['off', 'ms', 'memory'] as const;
      ui.set({ heat: order[(order.indexOf(ui.store.get().heat) + 1) % order.length] });
    },
  };
}

/** Keyboard shortcuts, listed in the help overlay. */
export const SHORTCUTS: { keys: string[]; what: string }[] = [
  { keys: ['Ctrl', 'Enter'], what: 'Run (cached nodes are reused)' },
  { keys: ['Esc'], what: 'Cancel the run / close a dialog' },
  { keys: ['/'], what: 'Quick add a node at the cursor (or double-click)' },
  { keys: ['Ctrl', 'Z'], what: 'Undo' },
  { keys: ['Ctrl', '⇧', 'Z'], what: 'Redo (also Ctrl Y)' },
  { keys: ['Del'], what: 'Delete the selection' },
  { keys: ['Ctrl', 'D'], what: 'Duplicate the selection' },
  { keys: ['Ctrl', 'C'], what: 'Copy the selection as pipeline JSON' },
  { keys: ['Ctrl', 'V'], what: 'Paste pipeline JSON' },
  { keys: ['Ctrl', 'A'], what: 'Select all' },
  { keys: ['L'], what: 'Auto-layout (left to right)' },
  { keys: ['F'], what: 'Fit the view' },
  { keys: ['G'], what: 'Snap to grid on/off' },
  { keys: ['H'], what: 'Heat map: off → time → memory' },
  { keys: ['Ctrl', 'S'], what: 'Save (⇧ for Save as)' },
  { keys: ['Ctrl', 'E'], what: 'Export as TypeScript (⇧ for JSON)' },
  { keys: ['Ctrl', 'O'], what: 'Open a pipeline' },
  { keys: ['Ctrl', 'N'], what: 'New pipeline' },
  { keys: ['?'], what: 'This help' },
  { keys: ['Shift', 'drag'], what: 'Box-select nodes' },
  { keys: ['Arrows'], what: 'Move the selected nodes' },
];

const isTyping = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
};

/** Installs the global key handler; returns the uninstall function. */
export function installShortcuts(app: App, commands: Commands, mouse: () => { x: number; y: number } | null): () => void {
  const { ui } = app;
  const onKey = (e: KeyboardEvent) => {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const typing = isTyping(e.target);
    if (e.key === 'Escape') {
      const s = ui.store.get();
      if (s.quickAdd || s.help) return ui.set({ quickAdd: undefined, help: false });
      const phase = app.metrics.get().run.phase;
      if (phase === 'running' || phase === 'starting' || app.runner.sweep.get().running) return commands.cancel();
      return;
    }
    if (mod && key === 'Enter') {
      e.preventDefault();
      return void commands.run();
    }
    if (mod && key === 's') {
      e.preventDefault();
      return void (e.shiftKey ? commands.saveAs() : commands.save());
    }
    if (mod && key === 'e') {
      e.preventDefault();
      return void (e.shiftKey ? commands.exportJson() : commands.exportTs());
    }
    if (mod && key === 'o') {
      e.preventDefault();
      return commands.open();
    }
    if (mod && key === 'n') {
      e.preventDefault();
      return commands.newDoc();
    }
    if (typing) return;
    if (mod && key === 'z') {
      e.preventDefault();
      return e.shiftKey ? commands.redo() : commands.undo();
    }
    if (mod && key === 'y') {
      e.preventDefault();
      return commands.redo();
    }
    if (mod && key === 'd') {
      e.preventDefault();
      return commands.duplicate();
    }
    if (mod && key === 'a') {
      e.preventDefault();
      return commands.selectAll();
    }
    if (mod || e.altKey) return;
    if (key === 'Delete' || key === 'Backspace') {
      e.preventDefault();
      return commands.deleteSelection();
    }
    if (key === '/' || (key === 'a' && e.shiftKey)) {
      e.preventDefault();
      const m = mouse();
      return commands.quickAdd(m ?? undefined);
    }
    if (key === '?') return commands.help();
    if (key === 'l') return void commands.layout();
    if (key === 'f') return commands.fit();
    if (key === 'g') return commands.toggleSnap();
    if (key === 'h') return commands.cycleHeat();
  };
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
