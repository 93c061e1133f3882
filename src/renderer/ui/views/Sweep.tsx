// Sweeps: the pipeline over values of one param (e.g. seqLen 1K…64K), each run uncached; per node,
// ms and peak bytes against the value on log-log axes with the fitted slope (≈1 for O(N), ≈2 for
// O(N²)). Values the pre-flight memory guard refuses are shown as refused, not run.
import { useMemo, useState } from 'react';
import uPlot from 'uplot';
import { useApp } from '../../app-context.js';
import { fieldsOf } from '../../model/params.js';
import { parseSweepValues } from '../../model/fit.js';
import { sweepFits, type SweepNode, type SweepSlope } from '../../../engine/run/sweep.js';
import { sweepSeries, sweepStatus } from '../../model/sweep.js';
import { formatBytes, formatBytesShort, formatMs } from '../../model/format.js';
import type { SweepPoint } from '../../state/runner.js';
import { GiB } from '../../state/runner.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { Chart, formatCount, SERIES_COLORS, logTicks } from '../Chart.js';

export function Sweep() {
  const { editor, catalog, runner, ui } = useApp();
  const nodes = useStore(editor.store, (s) => s.nodes.map((n) => n.id), shallowEqual);
  const sweep = useStore(runner.sweep, (s) => s);
  const budget = useStore(runner.settings, (s) => s.memoryBudget);
  const busy = useStore(runner.settings, (s) => s.busy);
  const [node, setNode] = useState<string>('');
  const [param, setParam] = useState<string>('');
  const [valuesText, setValuesText] = useState('256..2048');
  const [error, setError] = useState<string | null>(null);
  const nodeId = nodes.includes(node) ? node : (nodes.find((id) => numericParams(id).length) ?? '');

  function numericParams(id: string): string[] {
    const n = editor.store.get().nodes.find((x) => x.id === id);
    if (!n) return [];
    return fieldsOf(catalog.paramSchema(n.data.type, n.data.params), ['variant'])
      .filter((f) => f.kind === 'integer' || f.kind === 'number')
      .map((f) => f.name);
  }
  const params = nodeId ? numericParams(nodeId) : [];
  const paramName = params.includes(param) ? param : (params.find((p) => /seq|len|tokens/i.test(p)) ?? params[0] ?? '');

  const start = () => {
    try {
      const values = parseSweepValues(valuesText);
      setError(null);
      // Make room for the two charts.
      ui.set({ panelHeight: Math.max(ui.store.get().panelHeight, Math.min(500, window.innerHeight - 260)) });
      void runner.runSweep(nodeId, paramName, values);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div data-testid="sweep">
      <div className="sweep-form">
        <label>
          node
          <select className="input" value={nodeId} onChange={(e) => setNode(e.target.value)} data-testid="sweep-node" style={{ width: 150 }}>
            {nodes.map((id) => (
              <option key={id}>{id}</option>
            ))}
          </select>
        </label>
        <label>
          param
          <select className="input" value={paramName} onChange={(e) => setParam(e.target.value)} data-testid="sweep-param" style={{ width: 150 }}>
            {params.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          values
          <input
            className="input"
            style={{ width: 200 }}
            value={valuesText}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setValuesText(e.target.value)}
            placeholder="1K..64K, or 512, 1024, 2048"
            data-testid="sweep-values"
          />
        </label>
        <label>
          memory budget (GiB)
          <input
            className="input"
            style={{ width: 110 }}
            type="number"
            min={0.01}
            step={0.25}
            value={+(budget / GiB).toFixed(3)}
            onChange={(e) => {
              const g = Number(e.target.value);
              if (g > 0) runner.settings.set((s) => ({ ...s, memoryBudget: g * GiB }));
            }}
            data-testid="sweep-budget"
          />
        </label>
        {sweep.running ? (
          <button className="btn danger" onClick={() => runner.cancel()}>
            ■ Stop sweep
          </button>
        ) : (
          <button className="btn primary" disabled={!nodeId || !paramName || busy} onClick={start} data-testid="sweep-run">
            ▶ Run sweep
          </button>
        )}
        <span className="muted">
          {sweep.running && sweep.current !== undefined && `running ${sweep.param} = ${sweep.current} (${sweep.points.length + 1}/${sweep.values.length})`}
          {!sweep.running && sweep.points.length > 0 && `${sweepStatus(sweep)}${sweep.backend ? ` on ${sweep.backend.name}` : ''}`}
        </span>
      </div>
      {error && <div className="field-error">{error}</div>}
      {sweep.points.length > 0 && <SweepCharts points={sweep.points} param={sweep.param ?? ''} affected={sweep.affected} />}
      {sweep.points.length === 0 && !sweep.running && (
        <div className="empty-note">
          Pick a param and values, e.g. a source&apos;s <span className="mono">seqLen</span> over <span className="mono">1K..16K</span>: each value runs uncached and is plotted on log-log axes with its fitted slope.
        </div>
      )}
    </div>
  );
}

function SweepCharts({ points, param, affected }: { points: SweepPoint[]; param: string; affected: string[] }) {
  const ran = points.filter((p) => p.status === 'ok' || Object.keys(p.nodes).length);
  // Only the nodes the param can change, in graph order: the series and their colours stay put between runs.
  const ids = useMemo(() => sweepSeries(affected, points), [affected, points]);
  const xs = ran.map((p) => p.value);
  const series = (get: (n: SweepNode) => number) =>
    ids.map((id) => ran.map((p) => (p.nodes[id]?.status === 'done' && get(p.nodes[id]!) > 0 ? get(p.nodes[id]!) : null)));
  const msData = series((n) => n.ms);
  const peakData = series((n) => n.peak);
  // The fit `ctxlab sweep` reports: three points at least, and no time exponent from timer noise.
  const fits = sweepFits(points, ids, affected);
  const msFits = ids.map((id) => fits[id]!.ms);
  const peakFits = ids.map((id) => fits[id]!.peak);
  const refused = points.filter((p) => p.status !== 'ok');

  const mkOptions = (unit: 'ms' | 'bytes', f: SweepSlope[]): Omit<uPlot.Options, 'width'> => {
    const fmt = unit === 'ms' ? formatMs : formatBytesShort;
    return {
      height: 220,
      scales: { x: { time: false, distr: 3, log: 2 }, y: { distr: 3, log: unit === 'ms' ? 10 : 2 } },
      axes: [
        { label: param, values: (_u: uPlot, v: number[]) => v.map((x) => formatCount(x)) },
        { size: 64, values: logTicks(fmt, unit === 'ms' ? 10 : 2) },
      ],
      series: [
        { label: param },
        ...ids.map((id, i) => ({
          label: `${id}${f[i]?.slope != null ? ` (slope ${f[i]!.slope!.toFixed(2)})` : ''}`,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 2,
          points: { show: true, size: 6 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : unit === 'ms' ? formatMs(v) : formatBytes(v)),
        })),
      ],
    };
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const msOptions = useMemo(() => mkOptions('ms', msFits), [ids.join(), msFits.map((f) => f.slope?.toFixed(2)).join(), param]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const peakOptions = useMemo(() => mkOptions('bytes', peakFits), [ids.join(), peakFits.map((f) => f.slope?.toFixed(2)).join(), param]);

  return (
    <>
      <div className="slopes" data-testid="sweep-slopes">
        {ids.map((id, i) => (
          <span className="slope" key={id}>
            <span className="pal-swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />
            <b className="mono">{id}</b> time ∝ {param}
            <sup>{msFits[i]?.slope?.toFixed(2) ?? '?'}</sup> · memory ∝ {param}
            <sup>{peakFits[i]?.slope?.toFixed(2) ?? '?'}</sup>
          </span>
        ))}
      </div>
      <div className="chart-row">
        <div className="chart-box" style={{ flex: '1 1 420px', minWidth: 360 }}>
          <h4>Wall time vs {param} (log-log)</h4>
          <Chart options={msOptions} data={[xs, ...msData] as uPlot.AlignedData} testId="sweep-chart-ms" />
        </div>
        <div className="chart-box" style={{ flex: '1 1 420px', minWidth: 360 }}>
          <h4>Peak memory vs {param} (log-log)</h4>
          <Chart options={peakOptions} data={[xs, ...peakData] as uPlot.AlignedData} testId="sweep-chart-peak" />
        </div>
      </div>
      {refused.length > 0 && (
        <div style={{ marginTop: 8 }} data-testid="sweep-refused">
          {refused.map((p) => (
            <div key={p.value} className={p.status === 'refused' ? 'refused' : 'field-error'}>
              {param} = {p.value}: {p.status === 'refused' ? 'refused by the pre-flight memory guard' : p.status} — {p.message}
            </div>
          ))}
        </div>
      )}
    </>
  );
}
