// A node on the canvas, drawn from its declaration: typed handles coloured by port kind, the
// compiler's issues, and live run state (status, progress, badges, heat) from the metrics store.
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { useApp } from '../app-context.js';
import { AccuracyBadge, useAccuracyColor } from './Accuracy.js';
import { PORT_COLORS } from '../model/catalog.js';
import { formatBytesShort, formatMs, formatPortShape } from '../model/format.js';
import { formatPct, rooflineTitle } from '../model/roofline.js';
import type { FlowNode } from '../model/graph.js';
import { heatScale } from '../state/derived.js';
import { useStore } from '../state/store.js';
import type { ProgressDetail } from '../../engine/node.js';
import { heatColor, lodLines, shownProfile } from './graph-layer.js';

function PipelineNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const { catalog, metrics, analysis, ui } = useApp();
  const def = catalog.def(data.type);
  const m = useStore(metrics, (s) => s.nodes[id]);
  const issues = useStore(analysis.store, (s) => s.byNode[id]);
  const shapes = useStore(analysis.store, (s) => s.shapes[id]);
  const heatMode = useStore(ui.store, (s) => s.heat);
  // Heat is relative to the slowest (or largest) node of the run.
  const heat = useStore(metrics, (s) => {
    if (heatMode === 'off' || !m?.profile || m.status !== 'done') return null;
    const scale = heatScale(s.nodes);
    const [v, max] = heatMode === 'ms' ? [m.profile.wallMs, scale.ms] : [m.profile.peakBytes, scale.bytes];
    return max > 0 ? Math.round((v / max) * 20) / 20 : 0;
  });

  const acc = useAccuracyColor(id);
  const fam = catalog.familyStyle(def?.family ?? 'unknown');
  const variant = typeof data.params.variant === 'string' ? data.params.variant : undefined;
  const variantTitle = variant ? (def?.variants?.[variant]?.title ?? variant) : undefined;
  const status = m?.status ?? 'idle';
  const inputs = Object.entries(def?.inputs ?? {});
  const outputs = Object.entries(def?.outputs ?? {});
  const p = m?.profile;
  const shown = !!shownProfile(m);
  // Zoomed out: the run's time and memory once there is a profile, else the title (wraps, unlike the spans).
  const lod = lodLines(def, data.type, data.params, m);
  const cls = ['pnode', `st-${status}`, selected ? 'selected' : '', issues?.length ? 'has-issue' : '', heat !== null ? 'heat' : '', acc ? 'acc' : ''].join(' ');

  const openPreview = (port: string) => {
    ui.set({ preview: { node: id, port } });
    ui.showTab('preview');
  };

  return (
    <div
      className={cls}
      style={{ ['--fam' as string]: fam.color, ...(heat !== null ? { ['--heat' as string]: heatColor(heat) } : {}), ...(acc ? { ['--acc' as string]: acc } : {}) }}
      data-testid={`node-${id}`}
      data-status={status}
    >
      <div className="pnode-head">
        <span className="pnode-title" title={def?.title ?? data.type}>
          {def?.title ?? data.type}
        </span>
        <span className="status-dot" title={status} />
      </div>
      <div className="pnode-sub">
        <span className="pnode-id" title={id}>
          {data.label ? `${data.label} · ${id}` : id}
        </span>
        {variantTitle && (
          <span className="chip" title={variant}>
            {variantTitle}
          </span>
        )}
      </div>
      <div className="pnode-lod" aria-hidden data-testid={`lod-${id}`}>
        {lod.length > 1 ? lod.map((line, i) => <span key={i}>{line}</span>) : lod[0]}
      </div>
      {!def && !issues?.length && <div className="pnode-error">unknown node type “{data.type}”</div>}
      <div className="pnode-ports">
        <div className="pnode-col in">
          {inputs.map(([port, spec]) => (
            <div className="port-row" key={port}>
              <Handle
                type="target"
                position={Position.Left}
                id={port}
                className={`port${spec.optional ? ' optional' : ''}`}
                style={{ ['--pc' as string]: PORT_COLORS[spec.kind] }}
                title={`${port}: ${spec.kind}${spec.dims ? ` [${spec.dims.join(', ')}]` : ''}${spec.optional ? ' (optional)' : ''}${spec.doc ? ` — ${spec.doc}` : ''}`}
                data-testid={`in-${id}-${port}`}
              />
              <span className={spec.optional ? 'opt' : ''}>{port}</span>
            </div>
          ))}
        </div>
        <div className="pnode-col out">
          {outputs.map(([port, spec]) => (
            <div className="port-row" key={port}>
              <span
                className={m?.outputs?.[port] ? 'click' : ''}
                title={formatPortShape(shapes?.[port]) || spec.kind}
                onClick={m?.outputs?.[port] ? () => openPreview(port) : undefined}
              >
                {port}
              </span>
              <Handle
                type="source"
                position={Position.Right}
                id={port}
                className="port"
                style={{ ['--pc' as string]: PORT_COLORS[spec.kind] }}
                title={`${port}: ${spec.kind}${spec.dims ? ` [${spec.dims.join(', ')}]` : ''}${spec.doc ? ` — ${spec.doc}` : ''}`}
                data-testid={`out-${id}-${port}`}
              />
            </div>
          ))}
        </div>
      </div>
      {status === 'running' && (
        <div className={`pnode-progress${m?.progress ? '' : ' indeterminate'}`}>
          <div style={{ width: `${Math.round((m?.progress ?? 0) * 100)}%` }} />
        </div>
      )}
      {status === 'running' && m?.detail && <LiveDetail detail={m.detail} />}
      {shown && p && (
        <div className="badges" data-testid={`badges-${id}`}>
          {status === 'cached' ? (
            <span className="badge cached" title="served from the result cache">
              cached
            </span>
          ) : (
            <span className="badge time" title="wall time" data-testid={`ms-${id}`}>
              {formatMs(p.wallMs)}
            </span>
          )}
          <span className="badge mem" title={`peak memory ${p.peakBytes} bytes (predicted ${p.predictedPeakBytes})`} data-testid={`peak-${id}`}>
            {formatBytesShort(p.peakBytes)}
          </span>
          {p.gflops !== null && status !== 'cached' && (
            <span className="badge" title={rooflineTitle(p)} data-testid={`gflops-${id}`}>
              {p.gflops >= 10 ? p.gflops.toFixed(0) : p.gflops.toFixed(2)}
              <span className="u">GF/s</span>
              {/* The roofline: the share of the backend's measured peak. */}
              {p.peakFlopsPct != null && <span className="u">· {formatPct(p.peakFlopsPct)}</span>}
            </span>
          )}
          {/* A kernel that could not run on this backend: the reason is the tooltip (profile.json: fallbacks). */}
          {p.fallbacks?.length && status !== 'cached' ? (
            <span className="badge fallback" title={p.fallbacks.join('\n')} data-testid={`fallback-${id}`}>
              fallback
            </span>
          ) : null}
        </div>
      )}
      <AccuracyBadge id={id} />
      {(m?.error && status !== 'done') || issues?.length ? (
        <div className="pnode-error" data-testid={`error-${id}`} title={m?.error ?? issues?.map((i) => i.message).join('\n')}>
          {/* Every message in full: a clipped one hid the second problem of a node. */}
          {(m?.error && status === 'failed' ? [m.error] : issues?.length ? issues.map((i) => i.message) : [m?.error]).map((text, i) => (
            <div key={i}>{text}</div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

export const PipelineNode = memo(PipelineNodeView);

/** A running node's own progress line and a sparkline of its live series (e.g. training loss). */
function LiveDetail({ detail }: { detail: ProgressDetail }) {
  const values = detail.series?.values ?? [];
  let path = '';
  if (values.length > 1) {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    path = values.map((v, i) => `${((i / (values.length - 1)) * 160).toFixed(1)},${(28 - ((v - lo) / (hi - lo || 1)) * 26).toFixed(1)}`).join(' ');
  }
  return (
    <div className="pnode-live" data-testid="live-detail">
      {path && (
        <svg width="160" height="30" aria-label={`${detail.series!.name}, live`}>
          <polyline points={path} fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      )}
      {detail.text && <div className="pnode-live-text">{detail.text}</div>}
    </div>
  );
}
