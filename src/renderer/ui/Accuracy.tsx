// The accuracy overlay: a toggle in the top bar that measures (on demand, on the cpu backend) how far
// each approximate node is from its exact counterpart, a coloured badge on each such node, and the
// numbers in the inspector.
import { useApp } from '../app-context.js';
import { accuracyLevel, worstRelError } from '../model/accuracy.js';
import { formatBytes, formatMs, formatNumber } from '../model/format.js';
import { isIncomparable } from '../../engine/run/accuracy.js';
import type { AccuracyState, NodeAccuracy, PortAccuracy } from '../state/accuracy.js';
import { useStore } from '../state/store.js';
import { rampColor } from './graph-layer.js';

const ACCURACY_STOPS = [
  [34, 197, 94],
  [234, 179, 8],
  [239, 68, 68],
] as const;

/** Green (float32 noise) → amber → red (an error as large as the value). */
export const accuracyColor = (level: number): string => rampColor(ACCURACY_STOPS, level);

const formatRel = (r: number) => (Number.isNaN(r) ? 'NaN' : r < 1e-3 ? r.toExponential(1) : `${formatNumber(r * 100, 3)}%`);
// Cosines near 1 differ in the digits after the 9s.
const formatCos = (c: number) => (Number.isNaN(c) ? 'NaN' : c > 0.999 && c < 1 ? c.toFixed(6) : formatNumber(c, 4));

/** This node's measurements, when the overlay is on and they describe the document as it is. */
function useNodeAccuracy(id: string): NodeAccuracy | undefined {
  const { accuracy, editor, ui } = useApp();
  const on = useStore(ui.store, (s) => s.accuracy);
  const structRev = useStore(editor.store, (s) => s.structRev);
  return useStore(accuracy.store, (s) => (on && s.phase === 'done' && s.structRev === structRev ? s.nodes[id] : undefined));
}

/** The node's overlay colour (its worst relative error; grey when not comparable), or null without one. */
export function useAccuracyColor(id: string): string | null {
  const a = useNodeAccuracy(id);
  if (!a) return null;
  const worst = worstRelError(a.ports.map((p) => p.result));
  return worst === undefined ? 'var(--text-3)' : accuracyColor(accuracyLevel(worst));
}

/** The toggle's status: what is happening, or how many nodes were measured and what it cost. */
function statusText(s: AccuracyState, stale: boolean): string {
  if (s.phase === 'running') return 'measuring on cpu…';
  if (s.phase === 'failed') return 'failed';
  if (stale) return 'changed';
  if (s.phase !== 'done') return '';
  const n = Object.keys(s.nodes).length;
  return n ? `${n} node${n === 1 ? '' : 's'} · ${formatMs(s.totalMs ?? 0)} on cpu` : 'no approximate nodes';
}

export function AccuracyToggle() {
  const { accuracy, editor, ui } = useApp();
  const on = useStore(ui.store, (s) => s.accuracy);
  const s = useStore(accuracy.store, (x) => x);
  const structRev = useStore(editor.store, (x) => x.structRev);
  const stale = s.phase === 'done' && s.structRev !== structRev;
  const toggle = () => {
    ui.set({ accuracy: !on });
    if (on) accuracy.cancel();
    else if (!accuracy.fresh() && s.phase !== 'running') void accuracy.measure();
  };
  const status = on ? statusText(s, stale) : '';
  return (
    <span className="acc-toggle">
      <button
        className={`btn small${on ? ' on' : ''}`}
        onClick={toggle}
        aria-pressed={on}
        data-testid="accuracy-toggle"
        title="Accuracy overlay: colour each approximate node by its error against the exact computation on the same inputs (cosine, max-abs, relative error), measured on demand on the cpu backend"
      >
        ≈ Accuracy
      </button>
      {status && (
        <span className={`acc-status${s.phase === 'failed' ? ' err' : ''}`} data-testid="accuracy-status" title={s.error ?? (stale ? 'the pipeline changed since the measurement' : undefined)}>
          {status}
        </span>
      )}
      {on && (stale || s.phase === 'failed') && (
        <button className="btn small ghost" onClick={() => void accuracy.measure()} data-testid="accuracy-recompute" title="Measure again">
          ↻
        </button>
      )}
    </span>
  );
}

/** "out", or "metrics.perplexity" for a metrics field. */
const labelOf = (p: PortAccuracy) => (p.field === undefined ? p.port : `${p.port}.${p.field}`);
/** A metrics field's numbers, the first few. */
const formatValues = (xs: number[]) => xs.slice(0, 6).map((x) => formatNumber(x, 4)).join(', ') + (xs.length > 6 ? ', …' : '');

function tipLine(p: PortAccuracy, against: string): string {
  const r = p.result;
  if (isIncomparable(r)) return `${labelOf(p)}: ${r.incomparable}`;
  // A metric's cosine says nothing (two perplexities are near-parallel vectors); its difference does.
  if (p.field !== undefined)
    return `${labelOf(p)} vs ${against}: rel ${formatRel(r.relError)}, max Δ ${formatNumber(r.maxAbs, 4)}${p.values ? ` (${formatValues(p.values.approx)} vs ${formatValues(p.values.exact)})` : ''}`;
  return `${labelOf(p)} vs ${against}: rel ${formatRel(r.relError)}, cos ${formatCos(r.cosine)}, max ${formatNumber(r.maxAbs, 4)}`;
}

/** The badge on a node: its worst relative error, coloured; or why it has no number. */
export function AccuracyBadge({ id }: { id: string }) {
  const a = useNodeAccuracy(id);
  if (!a) return null;
  const worst = worstRelError(a.ports.map((p) => p.result));
  const tip = a.ports.map((p) => tipLine(p, a.against)).join('\n');
  if (worst === undefined)
    return (
      <div className="acc-badge none" title={tip} data-testid={`acc-${id}`}>
        ≈ not comparable
      </div>
    );
  const comparable = a.ports.flatMap((p) => (isIncomparable(p.result) ? [] : [{ p, r: p.result }]));
  const tensors = comparable.filter(({ p }) => p.field === undefined);
  // Metrics only (an evaluation): the largest difference beside the relative error, no cosine.
  const second = tensors.length
    ? `cos ${formatCos(Math.min(...tensors.map(({ r }) => r.cosine)))}`
    : `max Δ ${formatNumber(Math.max(...comparable.map(({ r }) => r.maxAbs)), 3)}`;
  return (
    <div className="acc-badge" style={{ ['--acc' as string]: accuracyColor(accuracyLevel(worst)) }} title={tip} data-testid={`acc-${id}`}>
      ≈ rel {formatRel(worst)} · {second}
    </div>
  );
}

/** The inspector's section: every compared port's numbers, and what the measurement cost. */
export function AccuracySection({ id }: { id: string }) {
  const a = useNodeAccuracy(id);
  if (!a) return null;
  return (
    <div className="insp-section" data-testid="inspector-accuracy">
      <div className="side-title">Accuracy against the exact computation</div>
      <p className="muted" style={{ margin: '0 0 6px' }}>
        Compared with {a.against}, both on the cpu backend.
      </p>
      {a.ports.map((p) => (
        <dl className="kv" key={labelOf(p)}>
          <dt>port</dt>
          <dd className="mono">
            {labelOf(p)} vs {p.exact}
          </dd>
          {isIncomparable(p.result) ? (
            <>
              <dt>not comparable</dt>
              <dd>{p.result.incomparable}</dd>
            </>
          ) : (
            <>
              {p.values && (
                <>
                  <dt>{p.field}</dt>
                  <dd data-testid={`acc-value-${labelOf(p)}`}>{formatValues(p.values.approx)}</dd>
                  <dt>exact {p.field}</dt>
                  <dd data-testid={`acc-exact-${labelOf(p)}`}>{formatValues(p.values.exact)}</dd>
                </>
              )}
              <dt>relative error</dt>
              <dd data-testid={`acc-rel-${labelOf(p)}`}>{formatRel(p.result.relError)}</dd>
              {p.field === undefined && (
                <>
                  <dt>cosine</dt>
                  <dd data-testid={`acc-cos-${labelOf(p)}`}>{formatCos(p.result.cosine)}</dd>
                </>
              )}
              <dt>{p.field === undefined ? 'max abs error' : 'max abs difference'}</dt>
              <dd data-testid={`acc-abs-${labelOf(p)}`}>{formatNumber(p.result.maxAbs, 3)}</dd>
            </>
          )}
        </dl>
      ))}
      {(a.ms !== undefined || a.exactMs !== undefined) && (
        <dl className="kv">
          {a.ms !== undefined && (
            <>
              <dt>this node (cpu)</dt>
              <dd>{formatMs(a.ms)}</dd>
            </>
          )}
          {a.exactMs !== undefined && (
            <>
              <dt>exact (cpu)</dt>
              <dd>{formatMs(a.exactMs)}</dd>
            </>
          )}
          {a.peakBytes !== undefined && a.exactPeakBytes !== undefined && (
            <>
              <dt>peak: this / exact</dt>
              <dd>
                {formatBytes(a.peakBytes)} / {formatBytes(a.exactPeakBytes)}
              </dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}
