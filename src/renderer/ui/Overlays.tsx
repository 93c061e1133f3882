// Overlays: the start screen (examples, recent files, recovery), quick add, the shortcut help,
// toasts, and the drop zone for .json files.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useApp } from '../app-context.js';
import { examples } from '../model/examples.js';
import type { PaletteEntry } from '../model/catalog.js';
import type { RecentEntry } from '../host/index.js';
import type { Files } from '../state/files.js';
import { useStore } from '../state/store.js';
import { SHORTCUTS, type Commands } from './commands.js';

export function StartScreen({ files, commands }: { files: Files; commands: Commands }) {
  const { ui, host } = useApp();
  const open = useStore(ui.store, (s) => s.start);
  const [recent, setRecent] = useState<RecentEntry[]>([]);
  const [recovery, setRecovery] = useState<{ name: string; text: string; savedAt: string } | null>(null);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    void host.recent().then(setRecent).catch(() => {});
    void files.recovery().then(setRecovery);
    setTimeout(() => first.current?.focus(), 0);
  }, [open, host, files]);
  if (!open) return null;
  return (
    <div className="overlay" role="dialog" aria-modal aria-label="Start" onMouseDown={(e) => e.target === e.currentTarget && ui.set({ start: false })} onKeyDown={(e) => e.key === 'Escape' && ui.set({ start: false })}>
      <div className="dialog" data-testid="start-screen">
        <h2>Context Lab</h2>
        <div className="muted">Wire long-context techniques into pipelines, run them on WebGPU or the CPU, and see where the time and the memory go, node by node.</div>
        {recovery && (
          <div className="recover" data-testid="recovery">
            <span>
              Unsaved work from {new Date(recovery.savedAt).toLocaleString()} (<span className="mono">{recovery.name}</span>) was recovered.
            </span>
            <span className="spacer" />
            <button className="btn primary small" onClick={() => files.recover(recovery)} data-testid="recover">
              Restore
            </button>
            <button
              className="btn small"
              onClick={() => {
                void files.discardRecovery();
                setRecovery(null);
              }}
              data-testid="discard-recovery"
            >
              Discard
            </button>
          </div>
        )}
        <h3>Start</h3>
        <div className="start-grid">
          <button className="start-card" ref={first} onClick={() => commands.newDoc()} data-testid="start-blank">
            <span className="t">+ Blank pipeline</span>
            <span className="d">An empty canvas: drag nodes from the palette.</span>
          </button>
          <button className="start-card" onClick={() => commands.open()}>
            <span className="t">Open a file…</span>
            <span className="d">A pipeline .json (or drop one on the window).</span>
          </button>
        </div>
        {recent.length > 0 && (
          <>
            <h3>Recent</h3>
            <div className="start-grid">
              {recent.map((r) => (
                <button className="start-card" key={r.key} onClick={() => void files.openRecent(r.key)}>
                  <span className="t">{r.name}</span>
                  <span className="m">{r.detail ?? new Date(r.openedAt).toLocaleString()}</span>
                </button>
              ))}
            </div>
          </>
        )}
        <h3>Examples</h3>
        <div className="start-grid">
          {examples.map((e) => (
            <button className="start-card" key={e.file} onClick={() => void files.openExample(e.file, e.doc)} data-testid={`example-${e.file}`}>
              <span className="t">{e.name}</span>
              <span className="d">{e.description}</span>
              <span className="m mono">
                {e.file} · {e.nodeCount} nodes
              </span>
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}

export function QuickAdd() {
  const { ui, catalog, editor } = useApp();
  const qa = useStore(ui.store, (s) => s.quickAdd);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  // Best match first: Enter adds the node the query names.
  const entries = useMemo(() => (query.trim() ? catalog.search(query) : catalog.entries()), [catalog, query]);
  useEffect(() => {
    setQuery('');
    setActive(0);
  }, [qa]);
  if (!qa) return null;
  const pick = (e: PaletteEntry | undefined) => {
    if (!e) return;
    editor.addNode(e.type, e.variant, { x: qa.flow.x - 118, y: qa.flow.y - 20 });
    ui.set({ quickAdd: undefined });
  };
  const left = Math.min(qa.screen.x, window.innerWidth - 360);
  const top = Math.min(qa.screen.y, window.innerHeight - 380);
  return (
    <>
      <div style={{ position: 'fixed', inset: 0, zIndex: 89 }} onMouseDown={() => ui.set({ quickAdd: undefined })} />
      <div className="quick-add" style={{ left, top }} role="dialog" aria-label="Add a node" data-testid="quick-add">
        <input
          autoFocus
          placeholder="Add a node…"
          value={query}
          aria-label="Search nodes to add"
          role="combobox"
          aria-expanded
          aria-controls="qa-list"
          aria-activedescendant={`qa-${active}`}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') (e.preventDefault(), setActive(Math.min(entries.length - 1, active + 1)));
            if (e.key === 'ArrowUp') (e.preventDefault(), setActive(Math.max(0, active - 1)));
            if (e.key === 'Enter') pick(entries[active]);
            if (e.key === 'Escape') ui.set({ quickAdd: undefined });
          }}
        />
        <ul id="qa-list" role="listbox">
          {entries.slice(0, 60).map((e, i) => (
            <li
              key={e.key}
              id={`qa-${i}`}
              role="option"
              aria-selected={i === active}
              style={{ ['--fam' as string]: catalog.familyStyle(e.family).color }}
              onMouseEnter={() => setActive(i)}
              onMouseDown={(ev) => (ev.preventDefault(), pick(e))}
            >
              <span>{e.title}</span>
              <span className="s">{e.summary}</span>
            </li>
          ))}
          {!entries.length && <li className="muted">No match</li>}
        </ul>
      </div>
    </>
  );
}

export function Help() {
  const { ui } = useApp();
  const open = useStore(ui.store, (s) => s.help);
  if (!open) return null;
  return (
    <div className="overlay" role="dialog" aria-modal aria-label="Keyboard shortcuts" onMouseDown={(e) => e.target === e.currentTarget && ui.set({ help: false })}>
      <div className="dialog" style={{ width: 720 }} data-testid="help">
        <h2>Keyboard shortcuts</h2>
        <div className="muted" style={{ marginBottom: 12 }}>
          Press <span className="kbd">?</span> or <span className="kbd">Esc</span> to close.
        </div>
        <div className="help-grid">
          {SHORTCUTS.map((s) => (
            <div className="help-row" key={s.what}>
              <span>{s.what}</span>
              <span className="keys">
                {s.keys.map((k) => (
                  <span className="kbd" key={k}>
                    {k}
                  </span>
                ))}
              </span>
            </div>
          ))}
        </div>
        <h3>Port colours</h3>
        <PortLegend />
      </div>
    </div>
  );
}

import { PORT_COLORS } from '../model/catalog.js';
function PortLegend() {
  return (
    <div style={{ display: 'flex', gap: 14, flexWrap: 'wrap' }}>
      {Object.entries(PORT_COLORS).map(([k, c]) => (
        <span key={k} style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
          <span className="port-dot" style={{ background: c }} /> {k}
        </span>
      ))}
    </div>
  );
}

export function Toasts() {
  const { ui } = useApp();
  const toasts = useStore(ui.store, (s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast">
          {t.text}
          {t.action && (
            <button
              className="btn small toast-action"
              data-testid="toast-action"
              onClick={() => {
                t.action!.run();
                ui.dismissToasts(t.id);
              }}
            >
              {t.action.label}
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
