// Per-node table of the last run: time, achieved GFLOP/s, peak memory, predicted vs measured, and
// the change against the previous run. Sortable by any column; a row selects its node.
import { useState } from 'react';
import type { NodeProfile } from '../../../engine/run/events.js';
import { useApp } from '../../app-context.js';
import { formatBytes, formatGflops, formatMs, formatNumber } from '../../model/format.js';
import { useStore } from '../../state/store.js';

type Col = { key: string; label: string; get(p: NodeProfile, prev?: NodeProfile): number | string | null; fmt?(v: number): string; title?: string };

const COLS: Col[] = [
  { key: 'node', label: 'node', get: (p) => p.nodeId },
  { key: 'type', label: 'type', get: (p) => (p.variant ? `${p.type} · ${p.variant}` : p.type) },
  { key: 'status', label: 'status', get: (p) => p.status },
  { key: 'ms', label: 'ms', get: (p) => (p.status === 'cached' ? null : p.wallMs), fmt: formatMs },
  { key: 'delta', label: 'Δ prev', get: (p, prev) => (prev && p.status === 'done' && prev.status === 'done' && prev.wallMs > 0 ? p.wallMs / prev.wallMs - 1 : null), fmt: (v) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(0)}%`, title: 'wall time against the previous run' },
  { key: 'gflops', label: 'GFLOP/s', get: (p) => p.gflops, fmt: (v) => formatGflops(v) },
  { key: 'flops', label: 'FLOPs', get: (p) => p.flops, fmt: (v) => formatNumber(v, 3) },
  { key: 'peak', label: 'peak', get: (p) => p.peakBytes, fmt: formatBytes },
  { key: 'pred', label: 'predicted', get: (p) => p.predictedPeakBytes, fmt: formatBytes, title: 'workspace + outputs from the cost model' },
  { key: 'ratio', label: 'meas/pred', get: (p) => (p.predictedPeakBytes > 0 ? p.peakBytes / p.predictedPeakBytes : null), fmt: (v) => `${v.toFixed(2)}×` },
  { key: 'alloc', label: 'allocated', get: (p) => p.bytesAllocated, fmt: formatBytes },
  { key: 'out', label: 'outputs', get: (p) => p.outputBytes, fmt: formatBytes },
];

export function NodeTable() {
  const { metrics, editor } = useApp();
  const nodes = useStore(metrics, (s) => s.nodes);
  const order = useStore(metrics, (s) => s.run.order);
  const previous = useStore(metrics, (s) => s.run.previous);
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 } | null>(null);
  const profiles = order.map((id) => nodes[id]?.profile).filter((p): p is NodeProfile => !!p);
  if (!profiles.length) return <div className="empty-note">Run the pipeline to fill the per-node table.</div>;
  const prevOf = new Map(previous?.nodes.map((p) => [p.nodeId, p]));
  const rows = [...profiles];
  if (sort) {
    const col = COLS.find((c) => c.key === sort.key)!;
    rows.sort((a, b) => {
      const x = col.get(a, prevOf.get(a.nodeId));
      const y = col.get(b, prevOf.get(b.nodeId));
      if (x === null) return 1;
      if (y === null) return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sort.dir;
    });
  }
  const total = profiles.reduce((n, p) => n + (p.status === 'done' ? p.wallMs : 0), 0);
  return (
    <table className="grid" data-testid="node-table">
      <thead>
        <tr>
          {COLS.map((c) => (
            <th
              key={c.key}
              className={c.key === 'type' || c.key === 'status' ? 'l' : ''}
              title={c.title}
              aria-sort={sort?.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined}
              tabIndex={0}
              onClick={() => setSort(sort?.key === c.key ? { key: c.key, dir: sort.dir === 1 ? -1 : 1 } : { key: c.key, dir: c.key === 'node' ? 1 : -1 })}
              onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLElement).click()}
            >
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((p) => (
          <tr key={p.nodeId} onClick={() => editor.select(p.nodeId)} data-testid={`row-${p.nodeId}`}>
            {COLS.map((c) => {
              const v = c.get(p, prevOf.get(p.nodeId));
              const cls = [c.key === 'type' || c.key === 'status' ? 'l' : '', c.key === 'node' ? 'mono' : '', c.key === 'delta' && typeof v === 'number' ? (v < -0.05 ? 'delta-good' : v > 0.05 ? 'delta-bad' : '') : ''].join(' ');
              return (
                <td key={c.key} className={cls}>
                  {v === null ? '–' : typeof v === 'number' && c.fmt ? c.fmt(v) : String(v)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td className="mono">total</td>
          <td className="l" />
          <td className="l" />
          <td>{formatMs(total)}</td>
          <td colSpan={COLS.length - 4} />
        </tr>
      </tfoot>
    </table>
  );
}
