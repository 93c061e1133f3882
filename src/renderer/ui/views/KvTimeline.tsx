// KV-cache eviction timeline: which original positions a cache holds at each step (slots × steps),
// and its memory per step. Shows every node whose metrics port declares an eviction timeline, and
// reads its values through the declared schema.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import type { MetricValue } from '../../../engine/values.js';
import { evictionTimeline, kvCacheMetrics, type KvCacheMetrics } from '../../../nodes/kv-cache/metrics.js';
import { useApp } from '../../app-context.js';
import type { Catalog } from '../../model/catalog.js';
import { nodesDeclaring } from '../../model/declared.js';
import type { FlowNode } from '../../model/graph.js';
import { formatBytes, formatNumber } from '../../model/format.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { byteAxis, Chart } from '../Chart.js';

/** Nodes (and their metrics port) that report an eviction timeline. */
const timelineNodes = (nodes: FlowNode[], catalog: Catalog) => nodesDeclaring(nodes, (t) => catalog.def(t), evictionTimeline, 'timeline');

export const hasKvCache = (nodes: FlowNode[], catalog: Catalog) => timelineNodes(nodes, catalog).length > 0;

/** Cache slot → original position at one recorded step (slots in cache order, runs ascending). */
export function slotPositions(runs: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) for (let p = runs[i]!; p < runs[i + 1]!; p++) out.push(p);
  return out;
}

export function KvTimeline() {
  const { editor, metrics, catalog } = useApp();
  const declared = useStore(editor.store, (s) => timelineNodes(s.nodes, catalog), (a, b) => shallowEqual(a.map((d) => `${d.id}.${d.port}`), b.map((d) => `${d.id}.${d.port}`)));
  const all = useStore(metrics, (s) => s.nodes);
  // Values that do not match the declared schema are not drawn (a node reporting something else).
  const reports = declared.flatMap(({ id, port }) => {
    const r = kvCacheMetrics.safeParse(all[id]?.outputs?.[port]?.metrics);
    return r.success ? [{ id, values: r.data }] : [];
  });
  // Caches that evict first: a full cache's map is one plain triangle.
  reports.sort((a, b) => Number(a.values.evicted === 0) - Number(b.values.evicted === 0));
  if (!reports.length) return <div className="empty-note">Run the pipeline to see what each KV cache holds at every step.</div>;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 14 }} data-testid="kv-view">
      {reports.map(({ id, values }) => (
        <KvCacheView key={id} id={id} values={values} />
      ))}
    </div>
  );
}

function KvCacheView({ id, values }: { id: string; values: KvCacheMetrics }) {
  const timeline = values.timeline;
  const mem = values.memoryPerStep;
  const memOptions = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    return {
      height: 170,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [
        { label: 'step' },
        byteAxis(),
      ],
      series: [{ label: 'step' }, { label: 'cache bytes', stroke: '#a855f7', fill: 'rgba(168,85,247,0.14)', width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatBytes(v)) }],
    };
  }, []);
  const slotOptions = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    return {
      height: 170,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [{ label: 'cache slot' }, { size: 50, label: 'original position' }],
      series: [{ label: 'slot' }, { label: 'original position', stroke: '#2bb3c0', width: 2, points: { show: false } }],
    };
  }, []);
  const last = slotPositions(timeline.runs.at(-1) ?? []);
  const scalars = Object.entries(values as Record<string, MetricValue>).filter(([, v]) => typeof v === 'number' || typeof v === 'string');
  const described = (k: string) => (kvCacheMetrics.shape as Record<string, { description?: string }>)[k]?.description;
  return (
    <div className="chart-row">
      <div className="chart-box" style={{ flex: '0 1 auto' }}>
        <h4>
          <span className="mono">{id}</span>: original positions held at each step
        </h4>
        <EvictionMap t={timeline} />
        <div className="muted" style={{ fontSize: 11, marginTop: 4 }}>
          x: decode step{timeline.step.length < values.steps ? ` (${timeline.step.length} of ${values.steps}, evenly sampled)` : ''} · y: original position
          (0 at the top) · <span style={{ color: '#a855f7' }}>■</span> held · <span style={{ color: 'rgba(240,97,109,0.7)' }}>■</span> evicted
        </div>
      </div>
      {last.length > 0 && (
        <div className="chart-box" style={{ flex: '1 1 280px', minWidth: 260 }}>
          <h4>Cache slot vs original position (last step)</h4>
          <Chart options={slotOptions} data={[last.map((_, i) => i), last]} testId="kv-slots" />
        </div>
      )}
      <div className="chart-box" style={{ flex: '1 1 320px', minWidth: 280 }}>
        <h4>Cache memory per step</h4>
        <Chart options={memOptions} data={[mem.map((_, i) => i), mem]} testId="kv-memory" />
      </div>
      <div className="card">
        <h4>Summary</h4>
        <dl className="kv">
          {scalars.map(([k, v]) => (
            <span key={k} style={{ display: 'contents' }}>
              <dt title={described(k)}>{k}</dt>
              <dd className="mono">{typeof v === 'number' && /bytes/i.test(k) ? formatBytes(v) : typeof v === 'number' ? formatNumber(v) : String(v)}</dd>
            </span>
          ))}
        </dl>
      </div>
    </div>
  );
}

/** Steps × positions image: a column per recorded step, a row per (binned) original position. */
function EvictionMap({ t }: { t: KvCacheMetrics['timeline'] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const maxSeen = Math.max(1, ...t.seen);
  const W = t.step.length;
  const H = Math.min(maxSeen, 200);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx || !W) return;
    const img = ctx.createImageData(W, H);
    const held = new Uint8Array(H);
    for (let x = 0; x < W; x++) {
      held.fill(0);
      const runs = t.runs[x]!;
      for (let i = 0; i + 1 < runs.length; i += 2) {
        const a = Math.floor((runs[i]! * H) / maxSeen);
        const b = Math.max(a + 1, Math.ceil((runs[i + 1]! * H) / maxSeen));
        for (let y = a; y < Math.min(b, H); y++) held[y] = 1;
      }
      const seenRows = Math.ceil((t.seen[x]! * H) / maxSeen);
      for (let y = 0; y < H; y++) {
        const i = (y * W + x) * 4;
        if (held[y]) [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]] = [168, 85, 247, 255];
        else if (y < seenRows) [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]] = [240, 97, 109, 90];
      }
    }
    ctx.putImageData(img, 0, 0);
  }, [t, W, H, maxSeen]);
  const sx = Math.max(1, Math.floor(480 / Math.max(1, W)));
  const sy = Math.max(1, Math.floor(200 / H));
  return (
    <canvas
      ref={ref}
      width={Math.max(1, W)}
      height={H}
      data-testid="kv-eviction"
      style={{ width: W * sx, height: H * sy, imageRendering: 'pixelated', border: '1px solid var(--border)', borderRadius: 4, background: 'var(--panel)' }}
    />
  );
}
