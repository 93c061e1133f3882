// File menu, document name with its dirty marker, the run bar (backend, run, cancel, re-run) and
// view toggles.
import { useEffect, useRef, useState } from 'react';
import type { BackendName } from '../../engine/node.js';
import { useApp } from '../app-context.js';
import { formatBytes, formatMs } from '../model/format.js';
import { sweepStatus } from '../model/sweep.js';
import { suggestBudget } from '../state/runner.js';
import type { RecentEntry } from '../host/index.js';
import { useStore } from '../state/store.js';
import type { Commands } from './commands.js';
import { AccuracyToggle } from './Accuracy.js';

export function TopBar({ commands }: { commands: Commands }) {
  const { editor } = useApp();
  const name = useStore(editor.store, (s) => s.meta.name);
  const fileName = useStore(editor.store, (s) => s.file.name);
  const dirty = useStore(editor.store, (s) => s.rev !== s.savedRev);
  const [draft, setDraft] = useState(name);
  useEffect(() => setDraft(name), [name]);

  return (
    <header className="topbar">
      <div className="brand">
        <div className="brand-mark" aria-hidden>
          ◆
        </div>
        <span className="brand-name">Context Lab</span>
      </div>
      <FileMenu commands={commands} />
      <div className="docname" title={fileName}>
        <input
          aria-label="Pipeline name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onBlur={() => draft !== name && editor.setMeta({ name: draft || 'untitled' })}
          onKeyDown={(e) => {
            if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
            if (e.key === 'Escape') {
              setDraft(name);
              (e.target as HTMLInputElement).blur();
            }
          }}
        />
        {dirty && <span className="dirty-dot" title="Unsaved changes" data-testid="dirty" />}
        <span className="muted file-name">{fileName}</span>
      </div>
      <div className="spacer" />
      <RunBar commands={commands} />
      <div className="sep" />
      <ViewToggles commands={commands} />
    </header>
  );
}

function FileMenu({ commands }: { commands: Commands }) {
  const { host, ui } = useApp();
  const [open, setOpen] = useState(false);
  const [recent, setRecent] = useState<RecentEntry[]>([]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    void host.recent().then(setRecent).catch(() => setRecent([]));
    const close = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open, host]);
  const item = (label: string, keys: string, run: () => void, testId?: string) => (
    <button
      className="menu-item"
      role="menuitem"
      data-testid={testId}
      onClick={() => {
        setOpen(false);
        run();
      }}
    >
      {label}
      {keys && <span className="kbd">{keys}</span>}
    </button>
  );
  return (
    <div className="menu" ref={ref}>
      <button className="btn ghost" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="file-menu">
        File ▾
      </button>
      {open && (
        <div className="menu-pop" role="menu" onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          {item('New pipeline', 'Ctrl N', commands.newDoc, 'menu-new')}
          {item('Open…', 'Ctrl O', commands.open, 'menu-open')}
          {item('Examples…', '', () => ui.set({ start: true }), 'menu-examples')}
          {item('Save', 'Ctrl S', () => void commands.save(), 'menu-save')}
          {item('Save as…', 'Ctrl ⇧ S', () => void commands.saveAs(), 'menu-save-as')}
          <div className="menu-sep" role="separator" />
          {item('Export as TypeScript…', 'Ctrl E', () => void commands.exportTs(), 'menu-export-ts')}
          {item('Export as JSON…', 'Ctrl ⇧ E', () => void commands.exportJson(), 'menu-export-json')}
          {recent.length > 0 && <div className="menu-label">Recent</div>}
          {recent.map((r) =>
            item(r.name, '', () => void commands.openRecent(r.key)),
          )}
        </div>
      )}
    </div>
  );
}

const BACKENDS: { value: BackendName; label: string }[] = [
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WASM' },
  { value: 'cpu', label: 'CPU' },
];

/** The cores the browser reports: the wasm kernels' default thread count ("auto"). */
const cores = () => Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);

/** The wasm kernels' thread count: auto (the cores) or 1..cores; a run's backend info says what it used. */
function ThreadsSelect({ value, disabled, onChange }: { value: number | undefined; disabled: boolean; onChange(n: number | undefined): void }) {
  const n = cores();
  // A stored count above this machine's cores stays listed (it applies as chosen).
  const counts = Array.from({ length: Math.max(n, value ?? 0) }, (_, i) => i + 1);
  return (
    <select
      className="backend-select"
      style={{ width: 'auto' }}
      aria-label="WASM threads"
      data-testid="wasm-threads"
      value={value ?? 'auto'}
      disabled={disabled}
      title={`Threads of the WASM kernels (auto: the ${n} cores here) (attention, selective scan, group quantize), for the next run`}
      onChange={(e) => onChange(e.target.value === 'auto' ? undefined : Number(e.target.value))}
    >
      {/* Short labels: the top bar must fit a 1024 px window (details e2e); the title says the rest. */}
      <option value="auto">{n}× auto</option>
      {counts.map((c) => (
        <option key={c} value={c}>
          {c}×
        </option>
      ))}
    </select>
  );
}

function RunBar({ commands }: { commands: Commands }) {
  const { runner, metrics, editor, registry } = useApp();
  const settings = useStore(runner.settings, (s) => s);
  const run = useStore(metrics, (s) => s.run);
  // The running node, when it works in steps and can end early keeping what it has (training, a search).
  const stoppable = useStore(metrics, (s) => {
    const id = Object.keys(s.nodes).find((n) => s.nodes[n]!.status === 'running');
    const type = id ? editor.doc().nodes.find((n) => n.id === id)?.type : undefined;
    return type && registry.get(type)?.flags?.stoppable ? id : undefined;
  });
  const sweeping = useStore(runner.sweep, (s) => s.running);
  // After a sweep (and until the next run starts) the status says how the sweep went.
  const sweepDone = useStore(runner.sweep, (s) => (s.finishedAt !== undefined && s.finishedAt >= (run.startedAt ?? 0) ? sweepStatus(s) : ''));
  const running = run.phase === 'running' || run.phase === 'starting' || sweeping;
  const info = settings.info;
  const [now, setNow] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(performance.now()), 100);
    return () => clearInterval(t);
  }, [running]);

  const refusal = run.phase === 'done' && run.status === 'refused' ? run.refusal : undefined;
  let status = '';
  if (settings.cancelling) status = 'cancelling…';
  else if (sweeping) status = 'sweeping…';
  else if (sweepDone) status = sweepDone;
  else if (run.phase === 'starting') status = settings.starting ? `waiting for ${settings.backend}…` : 'starting…';
  else if (run.phase === 'running') status = `running ${formatMs(Math.max(0, now - (run.startedAt ?? now)))}`;
  else if (run.phase === 'done') {
    if (run.status === 'ok') status = `done in ${formatMs(run.profile?.totalMs ?? 0)}`;
    else if (run.status === 'cancelled') status = 'cancelled';
    else if (run.status === 'invalid') status = 'not run: the pipeline has errors';
    else if (refusal) status = `refused: ${refusal.nodeId} needs ${formatBytes(refusal.predictedBytes)}, budget ${formatBytes(refusal.budgetBytes)}`;
    else if (run.status === 'refused') status = 'refused by the memory guard';
    else status = 'failed';
  }
  const raiseTo = refusal ? suggestBudget(refusal.predictedBytes, refusal.budgetBytes) : 0;
  const fellBack = info && info.name !== info.requested;

  return (
    <div className="runbar">
      <select
        className="backend-select"
        aria-label="Backend"
        data-testid="backend"
        value={settings.backend}
        disabled={running}
        title={settings.reason ?? 'Backend'}
        onChange={(e) => void runner.selectBackend(e.target.value as BackendName)}
      >
        {BACKENDS.map((b) => (
          <option key={b.value} value={b.value}>
            {b.label}
          </option>
        ))}
      </select>
      {settings.backend === 'wasm' && <ThreadsSelect value={settings.threads} disabled={running} onChange={runner.setThreads} />}
      <div className="backend-info" data-testid="backend-info" title={[settings.reason, info ? JSON.stringify(info, null, 1) : ''].filter(Boolean).join('\n\n')}>
        {settings.starting ? (
          <span>
            <span className="spinner" aria-hidden /> starting {settings.backend}…
          </span>
        ) : info ? (
          <>
            <span>
              <b>{info.name}</b>
              {info.threads ? <span data-testid="backend-threads">{` · ${info.threads} ${info.threads === 1 ? 'thread' : 'threads'}`}</span> : ''}
              {info.adapter ? ` · ${info.adapter.vendor} ${info.adapter.architecture}` : ''}
              {info.adapter?.isFallbackAdapter ? ' (software adapter)' : ''}
            </span>
            {fellBack && (
              <span className="fallback" title={info.fallbackReason}>
                fell back from {info.requested}: {info.fallbackReason}
              </span>
            )}
          </>
        ) : settings.error ? (
          <span className="fallback">{settings.error}</span>
        ) : (
          <span className="muted">not started</span>
        )}
      </div>
      {(fellBack || settings.error) && !settings.starting && !running && (
        <button className="btn small" data-testid="backend-retry" title={`Start ${settings.backend} again`} onClick={() => void runner.selectBackend(settings.backend, { retry: true })}>
          Retry
        </button>
      )}
      {running && stoppable && (
        <button
          className="btn"
          onClick={runner.stop}
          disabled={settings.cancelling || settings.stopping}
          data-testid="stop-keep"
          title={`"${stoppable}" ends after its current step and keeps what it has (a model, the best factors so far); the nodes after it still run`}
        >
          {settings.stopping ? 'Stopping…' : '◼ Stop & keep'}
        </button>
      )}
      {running ? (
        <button className="btn danger" onClick={commands.cancel} disabled={settings.cancelling} data-testid="cancel">
          {settings.cancelling ? (
            'Cancelling…'
          ) : (
            <>
              ■ Cancel <span className="kbd">Esc</span>
            </>
          )}
        </button>
      ) : (
        <>
          <button className="btn primary" onClick={() => void commands.run()} data-testid="run" title="Run (Ctrl+Enter); unchanged nodes come from the cache">
            ▶ Run
          </button>
          <button className="btn" onClick={() => void commands.rerun()} data-testid="rerun" title="Re-run every node, ignoring the cache">
            ↻
          </button>
        </>
      )}
      <span className={`run-status ${run.status ?? ''}`} data-testid="run-status" aria-live="polite" title={refusal ? run.issues[0]?.message : status}>
        {status}
      </span>
      {refusal && (
        <button
          className="btn small"
          data-testid="raise-budget"
          title={`The memory guard refuses runs whose predicted peak is over the budget (now ${formatBytes(refusal.budgetBytes)}). Raise it to ${formatBytes(raiseTo)} and run.`}
          onClick={() => {
            runner.setBudget(raiseTo);
            void commands.run();
          }}
        >
          Raise to {formatBytes(raiseTo)} ▶
        </button>
      )}
    </div>
  );
}

function ViewToggles({ commands }: { commands: Commands }) {
  const { ui } = useApp();
  const heat = useStore(ui.store, (s) => s.heat);
  const theme = useStore(ui.store, (s) => s.theme);
  return (
    <>
      <AccuracyToggle />
      <select
        className="backend-select"
        aria-label="Heat map"
        data-testid="heat"
        value={heat}
        title="Colour nodes by latency or memory (H)"
        onChange={(e) => ui.set({ heat: e.target.value as 'off' | 'ms' | 'memory' })}
      >
        <option value="off">Heat: off</option>
        <option value="ms">Heat: time</option>
        <option value="memory">Heat: memory</option>
      </select>
      <button className="btn ghost" onClick={() => ui.setTheme(theme === 'dark' ? 'light' : 'dark')} title="Light / dark theme" aria-label="Toggle theme" data-testid="theme">
        {theme === 'dark' ? '☀' : '☾'}
      </button>
      <button className="btn ghost" onClick={commands.help} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
        ?
      </button>
    </>
  );
}
