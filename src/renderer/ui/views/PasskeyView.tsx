// Passkey retrieval: each node that declares passkey metrics (eval.passkey): its accuracy as a heat
// map of prompt lengths (rows) by the depth the key is hidden at (columns), red (never found) to
// green (always), read through the declared schema.
import { passkeyMetrics } from '../../../nodes/model/metrics.js';
import { useApp } from '../../app-context.js';
import type { Catalog } from '../../model/catalog.js';
import { nodesDeclaring } from '../../model/declared.js';
import type { FlowNode } from '../../model/graph.js';
import { accuracyColor, passkeyGrid } from '../../model/eval-views.js';
import { shallowEqual, useStore } from '../../state/store.js';
import { formatCount } from '../Chart.js';

/** Nodes (and their metrics port) that report a passkey grid. */
const passkeyNodes = (nodes: FlowNode[], catalog: Catalog) => nodesDeclaring(nodes, (t) => catalog.def(t), passkeyMetrics);

export const hasPasskey = (nodes: FlowNode[], catalog: Catalog) => passkeyNodes(nodes, catalog).length > 0;

export function PasskeyView() {
  const { editor, metrics, catalog } = useApp();
  const declared = useStore(editor.store, (s) => passkeyNodes(s.nodes, catalog), (a, b) => shallowEqual(a.map((d) => `${d.id}.${d.port}`), b.map((d) => `${d.id}.${d.port}`)));
  const summaries = useStore(metrics, (s) => s.nodes);
  // Values that do not match the declared schema are not drawn.
  const grids = declared.flatMap(({ id, port }) => {
    const m = passkeyMetrics.safeParse(summaries[id]?.outputs?.[port]?.metrics).data;
    return m ? [{ id, g: passkeyGrid(m), m }] : [];
  });
  if (!grids.length) return <div className="empty-note">Run the pipeline to see each passkey evaluation&apos;s accuracy by length and depth.</div>;
  return (
    <div data-testid="passkey-view" style={{ display: 'flex', flexWrap: 'wrap', gap: 24, padding: '4px 8px' }}>
      {grids.map(({ id, g, m }, k) => (
        <div key={id} data-testid={`passkey-${k}`}>
          <div style={{ display: 'flex', gap: 12, alignItems: 'baseline', marginBottom: 4 }}>
            <span className="mono">{id}</span>
            <span className="muted">
              {m.rope} · {m.attention} · {m.trials} trials · mean {(100 * g.mean).toFixed(0)}%
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
