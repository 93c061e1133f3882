// Passkey retrieval: each eval.passkey node's accuracy as a heat map of prompt lengths (rows) by the
// depth the key is hidden at (columns), red (never found) to green (always), from the node's metrics.
import type { MetricValue } from '../../../engine/values.js';
import { useApp } from '../../app-context.js';
import type { FlowNode } from '../../model/graph.js';
import { accuracyColor, passkeyGrid } from '../../model/eval-views.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { formatCount } from '../Chart.js';

export const hasPasskey = (nodes: FlowNode[]) => nodes.some((n) => n.data.type === 'eval.passkey');

export function PasskeyView() {
  const { editor, metrics } = useApp();
  const ids = useStore(editor.store, (s) => s.nodes.filter((n) => n.data.type === 'eval.passkey').map((n) => n.id), shallowEqual);
  const summaries = useStore(metrics, (s) => s.nodes);
  const grids = ids.flatMap((id) => {
    const m = summaries[id]?.outputs?.metrics?.metrics as Record<string, MetricValue> | undefined;
    const g = passkeyGrid(m);
    return g ? [{ id, g, m: m! }] : [];
  });
  if (!grids.length) return <div className="empty-note">Run the pipeline to see each eval.passkey node&apos;s accuracy by length and depth.</div>;
  return (
    <div data-testid="passkey-view" style={{ display: 'flex', flexWrap: 'wrap', gap: 24, padding: '4px 8px' }}>
      {grids.map(({ id, g, m }, k) => (
        <div key={id} data-testid={`passkey-${k}`}>
          <div style={{ display: 'flex', gap: 12, alignItems: 'baseline', marginBottom: 4 }}>
            <span className="mono">{id}</span>
            <span className="muted">
              {String(m.rope ?? '')} · {String(m.attention ?? '')} · {String(m.trials ?? '?')} trials · mean {(100 * g.mean).toFixed(0)}%
            </span>
          </div>
          <table style={{ borderCollapse: 'collapse', fontSize: 12 }}>
            <thead>
              <tr>
                <th className="muted" style={{ textAlign: 'right', paddingRight: 6 }}>
                  length \ depth
                </th>
                {g.depths.map((d) => (
                  <th key={d} style={{ minWidth: 44, fontWeight: 'normal' }}>
                    {(100 * d).toFixed(0)}%
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {g.cells.map((row, i) => (
                <tr key={g.lengths[i]}>
                  <th className="mono" style={{ textAlign: 'right', paddingRight: 6, fontWeight: 'normal' }}>
                    {formatCount(g.lengths[i]!)}
                  </th>
                  {row.map((c) => (
                    <td
                      key={c.depth}
                      data-accuracy={c.accuracy}
                      title={`length ${c.length}${c.promptTokens !== undefined ? ` (${c.promptTokens} tokens)` : ''}, depth ${(100 * c.depth).toFixed(0)}%: accuracy ${(100 * c.accuracy).toFixed(0)}%`}
                      style={{ background: accuracyColor(c.accuracy), color: '#fff', textAlign: 'center', height: 24, border: '1px solid var(--bg, #111)' }}
                    >
                      {(100 * c.accuracy).toFixed(0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}
