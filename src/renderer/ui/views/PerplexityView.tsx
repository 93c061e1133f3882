// Perplexity against length: one line per eval.perplexity node (a pipeline branch: the config's RoPE,
// a rope_scaling override, another attention kernel) on a log-length axis, from the nodes' metrics.
import { useMemo } from 'react';
import uPlot from 'uplot';
import type { MetricValue } from '../../../engine/values.js';
import { useApp } from '../../app-context.js';
import type { FlowNode } from '../../model/graph.js';
import { perplexitySeries } from '../../model/eval-views.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { Chart, formatCount, SERIES_COLORS } from '../Chart.js';

export const hasPerplexity = (nodes: FlowNode[]) => nodes.some((n) => n.data.type === 'eval.perplexity');

export function PerplexityView() {
  const { editor, metrics } = useApp();
  const ids = useStore(editor.store, (s) => s.nodes.filter((n) => n.data.type === 'eval.perplexity').map((n) => n.id), shallowEqual);
  const summaries = useStore(metrics, (s) => s.nodes);
  const { xs, series } = perplexitySeries(ids.map((id) => ({ id, metrics: summaries[id]?.outputs?.metrics?.metrics as Record<string, MetricValue> | undefined })));
  const key = series.map((s) => s.label).join('|');
  const options = useMemo<Omit<uPlot.Options, 'width'>>(
    () => ({
      height: 240,
      scales: { x: { time: false, distr: 3, log: 2 }, y: { distr: 3, log: 10 } },
      axes: [
        { label: 'window length (tokens)', values: (_u: uPlot, v: number[]) => v.map((x) => formatCount(x)) },
        { label: 'perplexity', size: 64, values: (_u: uPlot, v: number[]) => v.map((x) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3))) },
      ],
      series: [
        { label: 'length' },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 2,
          points: { show: true, size: 7 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : v.toFixed(2)),
        })),
      ],
    }),
    [key], // eslint-disable-line react-hooks/exhaustive-deps
  );
  if (!series.length) return <div className="empty-note">Run the pipeline to plot each eval.perplexity node&apos;s perplexity against length.</div>;
  return (
    <div data-testid="perplexity-view" style={{ padding: '4px 8px' }}>
      <div className="chart-box">
        <h4>Perplexity vs window length (log-log)</h4>
        <Chart options={options} data={[xs, ...series.map((s) => s.ys)] as uPlot.AlignedData} testId="perplexity-chart" />
      </div>
      <table className="mono" data-testid="perplexity-table" style={{ fontSize: 12, marginTop: 6, borderSpacing: '12px 2px' }}>
        <thead>
          <tr>
            <th style={{ textAlign: 'left' }}>node</th>
            {xs.map((L) => (
              <th key={L} style={{ textAlign: 'right' }}>
                {formatCount(L)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {series.map((s, i) => (
            <tr key={s.id}>
              <td>
                <span className="pal-swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} /> {s.label}
              </td>
              {s.ys.map((y, j) => (
                <td key={j} style={{ textAlign: 'right' }}>
                  {y === null ? '–' : y.toFixed(2)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
