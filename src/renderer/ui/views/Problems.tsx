// The compiler's issues and warnings, and a failed run's issues; clicking one selects its node.
import { useApp } from '../../app-context.js';
import { useStore } from '../../state/store.js';

export function Problems() {
  const { analysis, metrics, editor } = useApp();
  const a = useStore(analysis.store, (s) => s);
  const runIssues = useStore(metrics, (s) => s.run.issues);
  const all = [...a.issues.map((i) => ({ ...i, level: 'error' as const })), ...runIssues.map((i) => ({ ...i, level: 'run' as const })), ...a.warnings.map((i) => ({ ...i, level: 'warning' as const }))];
  if (!all.length) return <div className="empty-note">No problems: the pipeline compiles.</div>;
  return (
    <table className="grid" data-testid="problems">
      <thead>
        <tr>
          <th className="l">level</th>
          <th className="l">node</th>
          <th className="l">where</th>
          <th className="l" style={{ width: '70%' }}>
            message
          </th>
        </tr>
      </thead>
      <tbody>
        {all.map((i, k) => (
          <tr key={k} onClick={() => i.nodeId && editor.select(i.nodeId)}>
            <td className="l" style={{ color: i.level === 'warning' ? 'var(--warn)' : 'var(--err)' }}>
              {i.level}
            </td>
            <td className="l mono">{i.nodeId ?? ''}</td>
            <td className="l mono muted">{i.path}</td>
            <td className="l" style={{ whiteSpace: 'normal' }}>
              {i.message}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
