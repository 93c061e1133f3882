// Perplexity against length: one line per node that declares perplexity metrics (eval.perplexity: a
// pipeline branch with the config's RoPE, a rope_scaling override, another attention kernel) on a
// log-length axis, read through the declared schema.
import { useMemo } from 'react';
import uPlot from 'uplot';
import { perplexityMetrics } from '../../../nodes/model/metrics.js';
import { useApp } from '../../app-context.js';
import type { Catalog } from '../../model/catalog.js';
import { nodesDeclaring } from '../../model/declared.js';
import type { FlowNode } from '../../model/graph.js';
import { perplexitySeries } from '../../model/eval-views.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { Chart, formatCount, SERIES_COLORS } from '../Chart.js';

/** Nodes (and their metrics port) that report perplexity by length. */
const perplexityNodes = (nodes: FlowNode[], catalog: Catalog) => nodesDeclaring(nodes, (t) => catalog.def(t), perplexityMetrics);

export const hasPerplexity = (nodes: FlowNode[], catalog: Catalog) => perplexityNodes(nodes, catalog).length > 0;

export function PerplexityView() {
  const { editor, metrics, catalog } = useApp();
  const declared = useStore(editor.store, (s) => perplexityNodes(s.nodes, catalog), (a, b) => shallowEqual(a.map((d) => `${d.id}.${d.port}`), b.map((d) => `${d.id}.${d.port}`)));
  const summaries = useStore(metrics, (s) => s.nodes);
  // Values that do not match the declared schema are not drawn.
  const { xs, series } = perplexitySeries(declared.map(({ id, port }) => ({ id, metrics: perplexityMetrics.safeParse(summaries[id]?.outputs?.[port]?.metrics).data })));
  // Log y only when the perplexities span a decade or more; otherwise uPlot's log axis shows one tick.
  const ys = series.flatMap((s) => s.ys).filter((y): y is number => y !== null);
  const logY = ys.length > 0 && Math.max(...ys) / Math.min(...ys) >= 10;
  const key = `${series.map((s) => s.label).join('|')}|${logY}`;
  const options = useMemo<Omit<uPlot.Options, 'width'>>(
    () => ({
      height: 240,
      // A log y spans the data with a margin (uPlot's log range snaps to whole decades).
      scales: {
        x: { time: false, distr: 3, log: 2 },
        y: logY
          ? { distr: 3, log: 10, range: (_u: uPlot, min: number | null, max: number | null) => (min === null || max === null ? [1, 10] : [min / 1.05, max * 1.05]) }
          : { distr: 1 },
      },
      axes: [
        { label: 'window length (tokens)', values: (_u: uPlot, v: (number | null)[]) => v.map((x) => (x === null ? '' : formatCount(x))) },
        { label: 'perplexity', size: 64, values: (_u: uPlot, v: (number | null)[]) => v.map((x) => (x === null ? '' : Number.isInteger(x) ? String(x) : x.toPrecision(4))) },
      ],
      series: [
        { label: 'length' },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 2,
          // Every other line dashed: branches that agree (within the trained length) stay visible.
          ...(i % 2 ? { dash: [8, 5] } : {}),
          points: { show: true, size: 7 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : v.toFixed(2)),
        })),
      ],
    }),
    [key], // eslint-disable-line react-hooks/exhaustive-deps
  );
  if (!series.length) return <div className="empty-note">Run the pipeline to plot each perplexity evaluation against length.</div>;
  return (
    <div data-testid="perplexity-view" style={{ padding: '4px 8px' }}>
      <div className="chart-box">
        <h4>Perplexity vs window length (log length{logY ? ', log perplexity' : ''})</h4>
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
