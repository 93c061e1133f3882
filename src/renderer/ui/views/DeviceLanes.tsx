// One timeline row per simulated device under a node that ran across devices (ring, dilated-
// distributed): its compute, send and wait spans on the Timeline's time axis.
import { formatBytes, formatMs } from '../../model/format.js';
import { laneTotals, type DeviceLanes, type DeviceSpanKind } from '../../model/device-lanes.js';

const COLOR: Record<DeviceSpanKind, string> = { compute: 'var(--accent)', send: 'var(--warn)', wait: 'var(--text-3)' };

/** `nodeStart` and `total`: the node's start and the axis length, ms since the run started. */
export function DeviceRows({ id, lanes, nodeStart, total }: { id: string; lanes: DeviceLanes; nodeStart: number; total: number }) {
  const pct = (ms: number) => `${((nodeStart + ms) / total) * 100}%`;
  return (
    <>
      {lanes.lanes.map((lane) => {
        const t = laneTotals(lane);
        const title = `${id}, device ${lane.device} (${lanes.transport}): compute ${formatMs(t.compute)}, send ${formatMs(t.send)}, wait ${formatMs(t.wait)}; peak ${formatBytes(lane.peakBytes)}, sent ${formatBytes(lane.bytesSent)}`;
        return (
          <div className="gantt-row" key={lane.device} data-testid="device-lane" title={title}>
            <span className="gantt-name" style={{ paddingLeft: 12, color: 'var(--text-2)' }}>
              device {lane.device}
            </span>
            <div className="gantt-track">
              {lane.spans.map((s, x) => (
                <div
                  key={x}
                  className="gantt-bar"
                  style={{ left: pct(s.start), width: `${Math.max(0.2, ((s.end - s.start) / total) * 100)}%`, background: COLOR[s.kind], height: s.kind === 'compute' ? 14 : 8, top: s.kind === 'compute' ? 0 : 3 }}
                  title={`device ${lane.device}, step ${s.step}: ${s.kind} ${formatMs(s.end - s.start)}`}
                />
              ))}
            </div>
            <span className="gantt-ms">{formatBytes(lane.peakBytes)}</span>
          </div>
        );
      })}
    </>
  );
}
