// The bottom panel: timeline, memory, per-node table, metrics, sweeps, value preview, and the
// views that only some nodes have (KV-cache eviction, position frequencies), plus problems.
import { useEffect, useRef } from 'react';
import { useApp } from '../app-context.js';
import { useStore } from '../state/store.js';
import type { BottomTab } from '../state/ui.js';
import { MemoryChart } from './views/MemoryChart.js';
import { MetricsView } from './views/MetricsView.js';
import { NodeTable } from './views/NodeTable.js';
import { Preview } from './views/Preview.js';
import { Problems } from './views/Problems.js';
import { Sweep } from './views/Sweep.js';
import { Timeline } from './views/Timeline.js';
import { KvTimeline, hasKvCache } from './views/KvTimeline.js';
import { PositionView, hasPosition } from './views/PositionView.js';
import { ModelMemoryView, hasModelMemory } from './views/ModelMemoryView.js';
import { PerplexityView, hasPerplexity } from './views/PerplexityView.js';
import { PasskeyView, hasPasskey } from './views/PasskeyView.js';

export function BottomPanel() {
  const { ui, analysis, editor, metrics, catalog } = useApp();
  const tab = useStore(ui.store, (s) => s.tab);
  const open = useStore(ui.store, (s) => s.panelOpen);
  const height = useStore(ui.store, (s) => s.panelHeight);
  // The compiler's issues and the last run's (a memory-guard refusal, a failed start).
  const problems = useStore(analysis.store, (s) => s.issues.length) + useStore(metrics, (s) => s.run.issues.length);
  const kv = useStore(editor.store, (s) => hasKvCache(s.nodes, catalog));
  const pos = useStore(editor.store, (s) => hasPosition(s.nodes, catalog));
  const modelMemory = useStore(editor.store, (s) => hasModelMemory(s.nodes, catalog));
  const perplexity = useStore(editor.store, (s) => hasPerplexity(s.nodes, catalog));
  const passkey = useStore(editor.store, (s) => hasPasskey(s.nodes, catalog));
  const drag = useRef<{ y: number; h: number } | null>(null);

  const tabs: { id: BottomTab; label: string; count?: number; show?: boolean }[] = [
    { id: 'timeline', label: 'Timeline' },
    { id: 'memory', label: 'Memory' },
    { id: 'table', label: 'Nodes' },
    { id: 'metrics', label: 'Metrics' },
    { id: 'sweep', label: 'Sweep' },
    { id: 'preview', label: 'Preview' },
    { id: 'kv', label: 'KV cache', show: kv },
    { id: 'position', label: 'Position', show: pos },
    { id: 'model-memory', label: 'Model memory', show: modelMemory },
    { id: 'perplexity', label: 'Perplexity', show: perplexity },
    { id: 'passkey', label: 'Passkey', show: passkey },
    { id: 'problems', label: 'Problems', count: problems },
  ];
  const visible = tabs.filter((t) => t.show !== false);
  const current = visible.some((t) => t.id === tab) ? tab : 'timeline';
  const tabsRef = useRef<HTMLDivElement>(null);
  // In a narrow window the tab row scrolls: keep the open tab (e.g. Problems, opened by Run) in view.
  useEffect(() => {
    tabsRef.current?.querySelector<HTMLElement>(`[data-testid="tab-${current}"]`)?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [current, open]);

  return (
    <section className="bottom" style={{ height: open ? height : 35 }} aria-label="Run results">
      {open && (
        <div
          className="bottom-resize"
          role="separator"
          aria-orientation="horizontal"
          onPointerDown={(e) => {
            drag.current = { y: e.clientY, h: height };
            (e.target as HTMLElement).setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            if (!drag.current) return;
            const h = Math.max(120, Math.min(window.innerHeight - 200, drag.current.h + drag.current.y - e.clientY));
            ui.set({ panelHeight: h });
          }}
          onPointerUp={() => (drag.current = null)}
        />
      )}
      <div className="tabs" role="tablist" ref={tabsRef}>
        {visible.map((t) => (
          <button
            key={t.id}
            role="tab"
            className="tab"
            aria-selected={open && current === t.id}
            data-testid={`tab-${t.id}`}
            onClick={() => ui.showTab(t.id)}
          >
            {t.label}
            {t.count ? <span className="count">{t.count}</span> : null}
          </button>
        ))}
        <div className="spacer" />
        <button className="btn ghost small" onClick={() => ui.set({ panelOpen: !open })} aria-label={open ? 'Collapse panel' : 'Expand panel'}>
          {open ? '▾' : '▴'}
        </button>
      </div>
      {open && (
        <div className="tab-body" role="tabpanel">
          {current === 'timeline' && <Timeline />}
          {current === 'memory' && <MemoryChart />}
          {current === 'table' && <NodeTable />}
          {current === 'metrics' && <MetricsView />}
          {current === 'sweep' && <Sweep />}
          {current === 'preview' && <Preview />}
          {current === 'kv' && <KvTimeline />}
          {current === 'position' && <PositionView />}
          {current === 'model-memory' && <ModelMemoryView />}
          {current === 'perplexity' && <PerplexityView />}
          {current === 'passkey' && <PasskeyView />}
          {current === 'problems' && <Problems />}
        </div>
      )}
    </section>
  );
}
