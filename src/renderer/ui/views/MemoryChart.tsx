// Memory over time, streamed live: bytes held by live values after each step, with the compiler's
// predicted peak as a reference line.
import { useMemo } from 'react';
import uPlot from 'uplot';
import { useApp } from '../../app-context.js';
import { formatBytes, formatMs } from '../../model/format.js';
import { useStore } from '../../state/store.js';
import { byteAxis, Chart } from '../Chart.js';

export function MemoryChart() {
  const { metrics } = useApp();
  const run = useStore(metrics, (s) => s.run);
  const options = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    return {
      height: 190,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [
        { values: (_u: uPlot, v: number[]) => v.map((x) => formatMs(x)) },
        byteAxis(),
      ],
      series: [
        { label: 't', value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatMs(v)) },
        { label: 'live bytes', stroke: '#a855f7', fill: 'rgba(168,85,247,0.15)', width: 2, paths: steppedPaths(), value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatBytes(v)) },
        { label: 'predicted peak', stroke: '#f2b33d', dash: [6, 4], width: 1.5, value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatBytes(v)) },
      ],
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs = run.memory.map((m) => m.tMs);
    const ys = run.memory.map((m) => m.bytes);
    const pred = run.memory.map(() => run.predictedPeakBytes ?? null);
    return [xs, ys, pred];
  }, [run.memory, run.predictedPeakBytes]);
  if (!run.memory.length) return <div className="empty-note">Run the pipeline to see its memory over time.</div>;
  return (
    <div className="chart-box" style={{ maxWidth: 980 }}>
      <h4>
        Live bytes over time
        {run.profile && (
          <span className="muted" style={{ fontWeight: 400 }}>
            {' '}
            · measured peak {formatBytes(run.profile.measuredPeakBytes)} · predicted {formatBytes(run.profile.predictedPeakBytes)}
          </span>
        )}
      </h4>
      <Chart options={options} data={data} testId="memory-chart" />
    </div>
  );
}

/** Live bytes change in steps (a value is allocated or freed), so draw steps, not slopes. */
function steppedPaths(): uPlot.Series.PathBuilder | undefined {
  return uPlot.paths.stepped?.({ align: 1 });
}
