// Metrics that nodes produce (compare: max/mean abs error, cosine; caches: bytes kept; …) and the
// pipeline's checks with their verdicts.
import type { MetricValue } from '../../../engine/values.js';
import { useApp } from '../../app-context.js';
import { formatNumber } from '../../model/format.js';
import { useStore } from '../../state/store.js';

export function MetricsView() {
  const { metrics, editor } = useApp();
  const nodes = useStore(metrics, (s) => s.nodes);
  const run = useStore(metrics, (s) => s.run);
  const cards = Object.entries(nodes).flatMap(([id, m]) =>
    Object.entries(m.outputs ?? {})
      .filter(([, v]) => v.kind === 'metrics' && v.metrics)
      .map(([port, v]) => ({ id, port, values: v.metrics as Record<string, MetricValue> })),
  );
  if (!cards.length && !run.checks.length) return <div className="empty-note">No metrics yet: add a Compare node (or another node with a metrics output) and run.</div>;
  return (
    <div>
      {run.checks.length > 0 && (
        <div className="card" style={{ marginBottom: 10 }} data-testid="checks">
          <h4>Checks</h4>
          {run.checks.map((c, i) => (
            <div className="check" key={i}>
              <span className={c.ok ? 'pass' : 'fail'}>{c.ok ? '✓ pass' : '✗ fail'}</span>
              <span className="mono">{c.text}</span>
            </div>
          ))}
        </div>
      )}
      <div className="cards">
        {cards.map((c) => (
          <div className="card" key={`${c.id}.${c.port}`} data-testid={`metrics-${c.id}`}>
            <h4>
              <button className="link" onClick={() => editor.select(c.id)}>
                {c.id}
              </button>
              <span className="muted">.{c.port}</span>
            </h4>
            <dl className="kv">
              {Object.entries(c.values)
                .filter(([, v]) => !Array.isArray(v) && (typeof v !== 'object' || v === null))
                .map(([k, v]) => (
                  <Row key={k} k={k} v={v} />
                ))}
            </dl>
            {Object.entries(c.values).some(([, v]) => Array.isArray(v) || (typeof v === 'object' && v !== null)) && (
              <div className="muted" style={{ fontSize: 11, marginTop: 6 }}>
                + series: {Object.entries(c.values).filter(([, v]) => Array.isArray(v) || (typeof v === 'object' && v !== null)).map(([k]) => k).join(', ')}
              </div>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

function Row({ k, v }: { k: string; v: MetricValue }) {
  return (
    <>
      <dt>{k}</dt>
      <dd className="mono" data-testid={`metric-${k}`}>
        {typeof v === 'number' ? formatNumber(v) : String(v)}
      </dd>
    </>
  );
}
