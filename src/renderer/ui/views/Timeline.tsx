// Gantt chart of node executions: one row per node in execution order, bars from start to end;
// the running node's bar grows live. A node that ran across simulated devices (it declares the
// devices metrics schema on a port) gets one row per device under it, with its compute, send and
// wait spans.
import { Fragment, useEffect, useState } from 'react';
import { useApp } from '../../app-context.js';
import { deviceMetricsSchema } from '../../../nodes/attention/devices.js';
import { metricsPortDeclaring } from '../../model/declared.js';
import { parseDeviceLanes } from '../../model/device-lanes.js';
import { formatMs } from '../../model/format.js';
import type { NodeMetrics } from '../../state/metrics.js';
import { useStore } from '../../state/store.js';
import { DeviceRows } from './DeviceLanes.js';

export function Timeline() {
  const { metrics, editor, catalog } = useApp();
  const run = useStore(metrics, (s) => s.run);
  const nodes = useStore(metrics, (s) => s.nodes);
  const running = run.phase === 'running';
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!running) return;
    let raf = 0;
    const tick = () => {
      setNow(performance.now());
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [running]);
  if (!run.order.length) return <div className="empty-note">Run the pipeline to see when each node ran.</div>;

  const elapsed = run.profile?.totalMs ?? (run.startedAt ? now - run.startedAt : 0);
  const rows = run.order.map((id) => {
    const m = nodes[id];
    const p = m?.profile;
    let start = p?.startMs;
    let end = p?.endMs;
    if (m?.status === 'running') {
      start = run.memory.length ? undefined : 0;
      end = elapsed;
    }
    const port = m?.status === 'done' ? metricsPortDeclaring(m.profile && catalog.def(m.profile.type), deviceMetricsSchema) : undefined;
    return { id, m, start, end, lanes: port ? parseDeviceLanes(m!.outputs?.[port]?.metrics) : null };
  });
  // The running node starts where the previous one ended.
  for (let i = 0; i < rows.length; i++) if (rows[i]!.m?.status === 'running' && rows[i]!.start === undefined) rows[i]!.start = i > 0 ? (rows[i - 1]!.end ?? 0) : 0;
  const total = Math.max(elapsed, ...rows.map((r) => r.end ?? 0), 1);
  const ticks = niceTicks(total, 6);
  return (
    <div className="gantt" data-testid="timeline">
      <div className="gantt-axis">
        <span>node</span>
        <div className="ticks">
          {ticks.map((t) => (
            <span key={t} style={{ left: `${(t / total) * 100}%` }}>
              {formatMs(t)}
            </span>
          ))}
        </div>
        <span style={{ textAlign: 'right' }}>wall</span>
      </div>
      {rows.map(({ id, m, start, end, lanes }) => (
        <Fragment key={id}>
          <div className="gantt-row">
            <span className="gantt-name" onClick={() => editor.select(id)} title={id}>
              {id}
            </span>
            <div className="gantt-track">
              {start !== undefined && end !== undefined && (
                <div
                  className={`gantt-bar ${m?.status ?? ''}`}
                  style={{ left: `${(start / total) * 100}%`, width: `${Math.max(0.3, ((end - start) / total) * 100)}%` }}
                  title={`${id}: ${formatMs(end - start)} (${m?.status})`}
                />
              )}
            </div>
            <span className="gantt-ms">{statusText(m)}</span>
          </div>
          {lanes && start !== undefined && <DeviceRows id={id} lanes={lanes} nodeStart={start} total={total} />}
        </Fragment>
      ))}
    </div>
  );
}

function statusText(m: NodeMetrics | undefined): string {
  if (!m) return '';
  if (m.status === 'cached') return 'cached';
  if (m.error === 'cancelled') return 'cancelled';
  if (m.profile && m.status !== 'skipped') return formatMs(m.profile.wallMs);
  return m.status === 'running' ? '…' : m.status;
}

export function niceTicks(max: number, count: number): number[] {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= max + 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}
