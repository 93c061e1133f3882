// KV-cache eviction timeline: which original positions the cache holds at each step (slots × steps),
// and its memory per step. Reads the kv-cache node's metrics (`timeline`, `memoryPerStep`) and its
// `positions` output.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import type { MetricValue } from '../../../engine/values.js';
import { useApp } from '../../app-context.js';
import type { FlowNode } from '../../model/graph.js';
import { formatBytes, formatNumber } from '../../model/format.js';
import { useStore } from '../../state/store.js';
import { byteAxis, Chart } from '../Chart.js';

export const hasKvCache = (nodes: FlowNode[]) => nodes.some((n) => n.data.type === 'kv-cache');

export interface KvTimelineData {
  /** Decode step of each recorded column (the recorder subsamples long runs). */
  steps: number[];
  /** Tokens seen so far at each recorded step. */
  seen: number[];
  /** Original positions held at each recorded step, as flat [start, end) pairs. */
  runs: number[][];
}

/** Reads the kv-cache metrics' `timeline` ({ step, seen, runs }); null when absent or malformed. */
export function parseTimeline(v: MetricValue | undefined): KvTimelineData | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const t = v as Record<string, MetricValue>;
  if (!Array.isArray(t.step) || !Array.isArray(t.seen) || !Array.isArray(t.runs)) return null;
  if (t.runs.length !== t.step.length || t.seen.length !== t.step.length) return null;
  return {
    steps: t.step.map(Number),
    seen: t.seen.map(Number),
    runs: t.runs.map((r) => (Array.isArray(r) ? r.map(Number) : [])),
  };
}

/** Cache slot → original position at one recorded step (slots in cache order, runs ascending). */
export function slotPositions(runs: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) for (let p = runs[i]!; p < runs[i + 1]!; p++) out.push(p);
  return out;
}

export function KvTimeline() {
  const { editor, metrics } = useApp();
  const ids = useStore(editor.store, (s) => s.nodes.filter((n) => n.data.type === 'kv-cache').map((n) => n.id).join(','));
  const all = useStore(metrics, (s) => s.nodes);
  const list = ids ? ids.split(',') : [];
  const evicted = (id: string) => Number((all[id]?.outputs?.metrics?.metrics as Record<string, MetricValue> | undefined)?.evicted) > 0 ? 0 : 1;
  // Caches that evict first: a full cache's map is one plain triangle.
  const withData = list.filter((id) => all[id]?.outputs?.metrics?.metrics).sort((a, b) => evicted(a) - evicted(b));
  if (!withData.length) return <div className="empty-note">Run the pipeline to see what each KV cache holds at every step.</div>;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 14 }} data-testid="kv-view">
      {withData.map((id) => (
        <KvCacheView key={id} id={id} values={all[id]!.outputs!.metrics!.metrics as Record<string, MetricValue>} />
      ))}
    </div>
  );
}

function KvCacheView({ id, values }: { id: string; values: Record<string, MetricValue> }) {
  const timeline = parseTimeline(values.timeline);
  const mem = Array.isArray(values.memoryPerStep) ? (values.memoryPerStep as MetricValue[]).map(Number) : null;
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
  const last = timeline ? slotPositions(timeline.runs.at(-1) ?? []) : [];
  const scalars = Object.entries(values).filter(([, v]) => typeof v === 'number' || typeof v === 'string');
  return (
    <div className="chart-row">
      <div className="chart-box" style={{ flex: '0 1 auto' }}>
        <h4>
          <span className="mono">{id}</span>: original positions held at each step
        </h4>
        {timeline ? <EvictionMap t={timeline} /> : <div className="muted">This cache reports no per-step timeline.</div>}
        <div className="muted" style={{ fontSize: 11, marginTop: 4 }}>
          x: decode step{timeline && timeline.steps.length < (Number(values.steps) || 0) ? ` (${timeline.steps.length} of ${values.steps}, evenly sampled)` : ''} · y: original position
          (0 at the top) · <span style={{ color: '#a855f7' }}>■</span> held · <span style={{ color: 'rgba(240,97,109,0.7)' }}>■</span> evicted
        </div>
      </div>
      {last.length > 0 && (
        <div className="chart-box" style={{ flex: '1 1 280px', minWidth: 260 }}>
          <h4>Cache slot vs original position (last step)</h4>
          <Chart options={slotOptions} data={[last.map((_, i) => i), last]} testId="kv-slots" />
        </div>
      )}
      {mem && (
        <div className="chart-box" style={{ flex: '1 1 320px', minWidth: 280 }}>
          <h4>Cache memory per step</h4>
          <Chart options={memOptions} data={[mem.map((_, i) => i), mem]} testId="kv-memory" />
        </div>
      )}
      <div className="card">
        <h4>Summary</h4>
        <dl className="kv">
          {scalars.map(([k, v]) => (
            <span key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd className="mono">{typeof v === 'number' && /bytes/i.test(k) ? formatBytes(v) : typeof v === 'number' ? formatNumber(v) : String(v)}</dd>
            </span>
          ))}
        </dl>
      </div>
    </div>
  );
}

/** Steps × positions image: a column per recorded step, a row per (binned) original position. */
function EvictionMap({ t }: { t: KvTimelineData }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const maxSeen = Math.max(1, ...t.seen);
  const W = t.steps.length;
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
