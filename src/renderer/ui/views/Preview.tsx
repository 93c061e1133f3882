// Preview of a value on an edge or output port: shape, dtype, stats and a histogram from the run's
// summary; heat maps per head (an attention `probe`, or any [H, A, B] tensor) from the full value.
import { useEffect, useRef, useState } from 'react';
import type { ValueSummary } from '../../../engine/run/events.js';
import type { Value } from '../../../engine/values.js';
import { useApp } from '../../app-context.js';
import { formatBytes, formatNumber, formatPortShape, formatValueShape } from '../../model/format.js';
import { useStore } from '../../state/store.js';

export function Preview() {
  const { ui, metrics, analysis } = useApp();
  const target = useStore(ui.store, (s) => s.preview);
  const summary = useStore(metrics, (s) => (target ? s.nodes[target.node]?.outputs?.[target.port] : undefined));
  const inferred = useStore(analysis.store, (s) => (target ? s.shapes[target.node]?.[target.port] : undefined));
  if (!target) return <div className="empty-note">Click an edge label or an output port name to preview its value.</div>;
  return (
    <div data-testid="preview">
      <div style={{ marginBottom: 8 }}>
        <b className="mono">
          {target.node}.{target.port}
        </b>{' '}
        <span className="muted">inferred: {formatPortShape(inferred) || '–'}</span>
      </div>
      {!summary ? (
        <div className="empty-note">No value yet: run the pipeline (every node's outputs are kept for preview).</div>
      ) : (
        <Summary summary={summary} node={target.node} port={target.port} />
      )}
    </div>
  );
}

function Summary({ summary: s, node, port }: { summary: ValueSummary; node: string; port: string }) {
  const rank3 = s.kind === 'tensor' && s.shape && (s.shape.length === 3 || s.shape.length === 2);
  return (
    <div className="preview">
      <dl className="kv" style={{ minWidth: 220 }} data-testid="preview-stats">
        <dt>kind</dt>
        <dd>{s.kind}</dd>
        {s.shape && (
          <>
            <dt>shape</dt>
            <dd className="mono" data-testid="preview-shape">
              {formatValueShape(s.shape, s.dtype)}
            </dd>
          </>
        )}
        <dt>bytes</dt>
        <dd>{formatBytes(s.bytes)}</dd>
        {s.stats && (
          <>
            <dt>min</dt>
            <dd className="mono">{formatNumber(s.stats.min)}</dd>
            <dt>max</dt>
            <dd className="mono">{formatNumber(s.stats.max)}</dd>
            <dt>mean</dt>
            <dd className="mono" data-testid="preview-mean">
              {formatNumber(s.stats.mean)}
            </dd>
            <dt>std</dt>
            <dd className="mono">{formatNumber(s.stats.std)}</dd>
          </>
        )}
      </dl>
      {s.histogram && <Histogram h={s.histogram} />}
      {s.preview && <pre className="formula" style={{ maxWidth: 520, maxHeight: 160, overflow: 'auto', margin: 0 }}>{s.preview}</pre>}
      {s.metrics && (
        <pre className="formula" style={{ maxWidth: 520, maxHeight: 180, overflow: 'auto', margin: 0 }}>
          {JSON.stringify(s.metrics, null, 1).slice(0, 4000)}
        </pre>
      )}
      {rank3 && <HeatMaps node={node} port={port} auto={port === 'probe'} shape={s.shape!} minOf={s.stats?.min} />}
    </div>
  );
}

function Histogram({ h }: { h: { min: number; max: number; counts: number[] } }) {
  const W = 320;
  const H = 110;
  const max = Math.max(...h.counts, 1);
  const bw = W / h.counts.length;
  return (
    <figure style={{ margin: 0 }}>
      <svg className="hist" width={W} height={H + 16} role="img" aria-label="histogram" data-testid="histogram">
        {h.counts.map((c, i) => {
          const bh = (c / max) * H;
          return <rect key={i} x={i * bw + 0.5} y={H - bh} width={Math.max(1, bw - 1)} height={bh} rx={1} />;
        })}
        <text x={0} y={H + 13} fontSize={10} fill="currentColor">
          {formatNumber(h.min, 3)}
        </text>
        <text x={W} y={H + 13} fontSize={10} textAnchor="end" fill="currentColor">
          {formatNumber(h.max, 3)}
        </text>
      </svg>
    </figure>
  );
}

const MAX_HEADS = 16;
const MAX_PX = 128;

function HeatMaps({ node, port, auto, shape, minOf }: { node: string; port: string; auto: boolean; shape: number[]; minOf?: number }) {
  const { runner } = useApp();
  const [show, setShow] = useState(auto);
  const [value, setValue] = useState<Value | null | 'loading'>(null);
  // Attention maps are probabilities spread over many keys: a log scale shows more than the sinks.
  const [scale, setScale] = useState<'log' | 'linear'>(minOf === undefined || minOf >= 0 ? 'log' : 'linear');
  useEffect(() => {
    setShow(auto);
    setValue(null);
  }, [node, port, auto]);
  useEffect(() => {
    if (!show) return;
    let alive = true;
    setValue('loading');
    void runner.fetchValue(node, port).then((v) => alive && setValue(v ?? null));
    return () => {
      alive = false;
    };
  }, [show, node, port, runner]);
  if (!show)
    return (
      <button className="btn small" onClick={() => setShow(true)} data-testid="show-heatmaps">
        Heat map{shape.length === 3 ? ' per head' : ''}
      </button>
    );
  if (value === 'loading') return <div className="muted">loading…</div>;
  if (!value || value.kind !== 'tensor') return <div className="muted">The value is no longer in the worker; run again.</div>;
  const heads = value.shape.length === 3 ? value.shape[0]! : 1;
  const rows = value.shape.at(-2)!;
  const cols = value.shape.at(-1)!;
  return (
    <div>
      <div style={{ display: 'flex', gap: 6, marginBottom: 6, alignItems: 'center' }}>
        <span className="muted">colour scale</span>
        {(['log', 'linear'] as const).map((sc) => (
          <button key={sc} className={`btn small${scale === sc ? ' on' : ''}`} onClick={() => setScale(sc)}>
            {sc}
          </button>
        ))}
        <span className="muted">{scale === 'log' ? '3 decades below each map’s maximum' : 'min to max of each map'}</span>
      </div>
      <div className="heatmaps" data-testid="heatmaps">
        {Array.from({ length: Math.min(heads, MAX_HEADS) }, (_, h) => (
          <figure key={h}>
            <HeatCanvas data={value.data as ArrayLike<number>} offset={h * rows * cols} rows={rows} cols={cols} log={scale === 'log'} />
            <figcaption>{heads > 1 ? `head ${h}` : `${rows}×${cols}`}</figcaption>
          </figure>
        ))}
        {heads > MAX_HEADS && <div className="muted">+{heads - MAX_HEADS} more heads</div>}
      </div>
    </div>
  );
}

/** One [rows, cols] slice, pooled (mean) to at most 128×128 pixels, coloured by a perceptual ramp. */
function HeatCanvas({ data, offset, rows, cols, log }: { data: ArrayLike<number>; offset: number; rows: number; cols: number; log: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const h = Math.min(rows, MAX_PX);
  const w = Math.min(cols, MAX_PX);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const pooled = new Float32Array(w * h);
    const cnt = new Float32Array(w * h);
    for (let r = 0; r < rows; r++) {
      const pr = Math.floor((r * h) / rows);
      for (let c = 0; c < cols; c++) {
        const x = data[offset + r * cols + c]!;
        if (!Number.isFinite(x)) continue;
        const i = pr * w + Math.floor((c * w) / cols);
        pooled[i] += x;
        cnt[i]! += 1;
      }
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < pooled.length; i++) {
      pooled[i] = cnt[i] ? pooled[i]! / cnt[i]! : 0;
      lo = Math.min(lo, pooled[i]!);
      hi = Math.max(hi, pooled[i]!);
    }
    const img = ctx.createImageData(w, h);
    const norm = (x: number) => {
      if (!log || hi <= 0) return hi > lo ? (x - lo) / (hi - lo) : 0;
      return x <= 0 ? 0 : Math.max(0, 1 + Math.log10(x / hi) / 3);
    };
    for (let i = 0; i < pooled.length; i++) {
      const [r, g, b] = ramp(norm(pooled[i]!));
      img.data[i * 4] = r;
      img.data[i * 4 + 1] = g;
      img.data[i * 4 + 2] = b;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [data, offset, rows, cols, w, h, log]);
  const scale = Math.max(1, Math.floor(128 / Math.max(w, h)));
  return <canvas ref={ref} width={w} height={h} style={{ width: w * scale, height: h * scale }} />;
}

/** An approximation of viridis. */
function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}
