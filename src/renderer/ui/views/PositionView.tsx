// Position encoders: the inverse frequencies (or wavelengths) per dimension pair that each position
// node actually used, overlaid on plain RoPE at the same base (log scale), with each node's attention
// factor and how many dimensions its scaling rule left alone or divided. Shows every node whose
// metrics port declares the position metrics, read (and titled) through that schema.
import { useEffect, useMemo, useState } from 'react';
import uPlot from 'uplot';
import { dict } from '../../../engine/dict.js';
import { ropeInv } from '../../../nodes/position/common.js';
import { positionMetrics, type PositionMetrics } from '../../../nodes/position/metrics.js';
import { useApp } from '../../app-context.js';
import type { Catalog } from '../../model/catalog.js';
import { nodesDeclaring } from '../../model/declared.js';
import type { FlowNode } from '../../model/graph.js';
import { formatNumber } from '../../model/format.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { Chart, SERIES_COLORS, logTicks } from '../Chart.js';

const positionNodes = (nodes: FlowNode[], catalog: Catalog) => nodesDeclaring(nodes, (t) => catalog.def(t), positionMetrics);

export const hasPosition = (nodes: FlowNode[], catalog: Catalog) => positionNodes(nodes, catalog).length > 0;

/** The table's columns: figures of the declared metrics, titled by their descriptions. */
const COLUMNS = [
  { key: 'attentionFactor', label: 'attention factor', digits: 4 },
  { key: 'unchangedDims', label: 'unchanged', digits: 4 },
  { key: 'dividedDims', label: 'divided', digits: 4 },
  { key: 'maxWavelength', label: 'max λ', digits: 3 },
] as const satisfies readonly { key: keyof PositionMetrics; label: string; digits: number }[];
const describe = (key: string) => (positionMetrics.shape as Record<string, { description?: string }>)[key]?.description;

export function PositionView() {
  const { editor, metrics, runner, catalog } = useApp();
  const ids = useStore(editor.store, (s) => positionNodes(s.nodes, catalog).map((d) => d.id), shallowEqual);
  const done = useStore(metrics, (s) => ids.filter((id) => s.nodes[id]?.outputs?.frequencies).map((id) => `${id}@${s.nodes[id]!.profile?.endMs ?? 0}`), shallowEqual);
  const summaries = useStore(metrics, (s) => s.nodes);
  const [freqs, setFreqs] = useState<Record<string, number[]>>(dict);
  const [mode, setMode] = useState<'inv' | 'wavelength'>('inv');

  useEffect(() => {
    let alive = true;
    void Promise.all(done.map((k) => k.split('@')[0]!).map(async (id) => [id, await runner.fetchValue(id, 'frequencies')] as const)).then((pairs) => {
      if (!alive) return;
      const next = dict<number[]>(); // keyed by node id
      for (const [id, v] of pairs) if (v?.kind === 'tensor') next[id] = Array.from(v.data as Float32Array);
      setFreqs(next);
    });
    return () => {
      alive = false;
    };
  }, [done.join(), runner]); // eslint-disable-line react-hooks/exhaustive-deps

  const shown = Object.keys(freqs);
  const first = shown[0];
  const half = first ? freqs[first]!.length : 0;
  const baseOf = (id: string) => {
    const p = editor.store.get().nodes.find((n) => n.id === id)?.data.params;
    return typeof p?.base === 'number' ? p.base : 10000;
  };
  const base = first ? baseOf(first) : 10000;
  const options = useMemo<Omit<uPlot.Options, 'width'>>(() => {
    return {
      height: 230,
      scales: { x: { time: false }, y: { distr: 3, log: 10 } },
      axes: [
        { label: 'dimension pair i' },
        { size: 72, values: logTicks((x) => formatNumber(x, 2)) },
      ],
      series: [
        { label: 'i' },
        ...shown.map((id, k) => ({ label: id, stroke: SERIES_COLORS[k % SERIES_COLORS.length], width: 2, points: { show: false } })),
        { label: `plain RoPE (base ${formatNumber(base)})`, stroke: '#8a93a5', dash: [5, 4], width: 1.5, points: { show: false } },
      ],
    };
  }, [shown.join(), base]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!done.length) return <div className="empty-note">Run the pipeline to see each position encoder&apos;s frequencies.</div>;
  if (!first) return <div className="muted">loading frequencies…</div>;
  const tr = (x: number) => (mode === 'inv' ? x : (2 * Math.PI) / x);
  const same = shown.filter((id) => freqs[id]!.length === half);
  const data = [Array.from({ length: half }, (_, i) => i), ...same.map((id) => freqs[id]!.map(tr)), Array.from(ropeInv(base, 2 * half), tr)] as uPlot.AlignedData;
  const m = (id: string): Partial<PositionMetrics> => positionMetrics.safeParse(summaries[id]?.outputs?.metrics?.metrics).data ?? {};
  return (
    <div className="chart-row" data-testid="position-view">
      <div className="chart-box" style={{ flex: '1 1 520px', minWidth: 420 }}>
        <h4 style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
          {mode === 'inv' ? 'Inverse frequency' : 'Wavelength (tokens)'} per dimension pair, head dim {half * 2}
          <span className="spacer" />
          <button className={`btn small${mode === 'inv' ? ' on' : ''}`} onClick={() => setMode('inv')}>
            inverse frequency
          </button>
          <button className={`btn small${mode === 'wavelength' ? ' on' : ''}`} onClick={() => setMode('wavelength')}>
            wavelength
          </button>
        </h4>
        <Chart options={options} data={data} testId="position-chart" />
      </div>
      <table className="grid" style={{ width: 'auto', alignSelf: 'flex-start' }}>
        <thead>
          <tr>
            <th>node</th>
            <th className="l" title={describe('variant')}>variant</th>
            {COLUMNS.map((c) => (
              <th key={c.key} title={describe(c.key)}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((id) => (
            <tr key={id}>
              <td className="mono">{id}</td>
              <td className="l">{m(id).variant ?? ''}</td>
              {COLUMNS.map((c) => {
                const v = m(id)[c.key];
                return <td key={c.key}>{v === undefined ? '–' : formatNumber(v, c.digits)}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
