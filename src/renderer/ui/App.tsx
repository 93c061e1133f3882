// The editor: top bar, palette, canvas, bottom panel, inspector, overlays; keyboard, clipboard and
// drag-and-drop wiring.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { AppContext, type App as AppServices } from '../app-context.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import { createFiles } from '../state/files.js';
import { useStore } from '../state/store.js';
import { BottomPanel } from './BottomPanel.js';
import { Canvas } from './Canvas.js';
import { createCommands, installShortcuts } from './commands.js';
import { Inspector } from './Inspector.js';
import { Help, QuickAdd, StartScreen, Toasts } from './Overlays.js';
import { Palette } from './Palette.js';
import { TopBar } from './TopBar.js';

export function App({ app }: { app: AppServices }) {
  return (
    <AppContext.Provider value={app}>
      <ReactFlowProvider>
        <Editor app={app} />
      </ReactFlowProvider>
    </AppContext.Provider>
  );
}

function Editor({ app }: { app: AppServices }) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const flowRef = useRef(flow);
  flowRef.current = flow;
  const mouse = useRef<{ x: number; y: number } | null>(null);
  const files = useMemo(() => createFiles(app), [app]);
  const commands = useMemo(() => createCommands(app, files, () => flowRef.current), [app, files]);
  const theme = useStore(app.ui.store, (s) => s.theme);
  const [dropping, setDropping] = useState(false);

  useEffect(() => installShortcuts(app, commands, () => mouse.current), [app, commands]);
  useEffect(() => files.startAutosave(), [files]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(
    () =>
      app.host.onMenu?.((cmd) => {
        const map: Record<string, () => void> = {
          new: commands.newDoc,
          open: commands.open,
          save: () => void commands.save(),
          'save-as': () => void commands.saveAs(),
          'export-ts': () => void commands.exportTs(),
          'export-json': () => void commands.exportJson(),
          undo: commands.undo,
          redo: commands.redo,
          layout: () => void commands.layout(),
          fit: commands.fit,
          help: commands.help,
          run: () => void commands.run(),
        };
        map[cmd]?.();
      }),
    [app, commands],
  );
  // Warn before closing with unsaved changes (the autosave has a copy either way).
  useEffect(() => {
    const before = (e: BeforeUnloadEvent) => {
      if (app.editor.isDirty()) e.preventDefault();
    };
    window.addEventListener('beforeunload', before);
    return () => window.removeEventListener('beforeunload', before);
  }, [app]);

  // Clipboard: nodes travel as pipeline JSON, so they paste into another window or a text editor.
  useEffect(() => {
    const typing = () => {
      const el = document.activeElement as HTMLElement | null;
      return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
    };
    const onCopy = (e: ClipboardEvent) => {
      if (typing()) return;
      const text = app.editor.copySelection();
      if (!text) return;
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
    };
    const onCut = (e: ClipboardEvent) => {
      onCopy(e);
      if (e.defaultPrevented) app.editor.deleteSelection();
    };
    const onPaste = (e: ClipboardEvent) => {
      if (typing()) return;
      const text = e.clipboardData?.getData('text/plain');
      if (!text?.trim().startsWith('{')) return;
      e.preventDefault();
      try {
        const at = mouse.current ? flowRef.current.screenToFlowPosition(mouse.current) : undefined;
        const n = app.editor.paste(text, at);
        app.ui.toast(`Pasted ${n} node${n === 1 ? '' : 's'}`, 'info', 1500);
      } catch (err) {
        app.ui.toast(`Cannot paste: ${(err as Error).message}`, 'error');
      }
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('cut', onCut);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('cut', onCut);
      document.removeEventListener('paste', onPaste);
    };
  }, [app]);

  const isFileDrag = (e: React.DragEvent) => e.dataTransfer.types.includes('Files');

  return (
    <div
      className="app"
      data-theme={theme}
      onDragOver={(e) => {
        if (!isFileDrag(e)) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target || !e.relatedTarget) setDropping(false);
      }}
      onDrop={(e) => {
        if (!isFileDrag(e)) return;
        e.preventDefault();
        setDropping(false);
        const file = e.dataTransfer.files[0];
        if (file) void files.openDropped(file);
      }}
    >
      <TopBar commands={commands} />
      <div className="workspace">
        <Palette
          onAdd={(entry) => {
            const f = flowRef.current;
            const el = document.querySelector('.canvas')?.getBoundingClientRect();
            const c = el ? f.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 2 }) : { x: 0, y: 0 };
            // Offset repeated adds so they do not stack exactly.
            const n = app.editor.store.get().nodes.length % 6;
            app.editor.addNode(entry.type, entry.variant, { x: c.x - 118 + n * 24, y: c.y - 40 + n * 24 });
          }}
        />
        <div className="center">
          <Canvas commands={commands} mouseRef={mouse} />
          <BottomPanel />
        </div>
        <Inspector />
      </div>
      <StartScreen files={files} commands={commands} />
      <QuickAdd />
      <Help />
      <Toasts />
      {dropping && <div className="drop-zone">Drop a pipeline .json to open it</div>}
    </div>
  );
}
