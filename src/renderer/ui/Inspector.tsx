// The inspector: the selected node's id, variant and params form, its documentation (summary,
// formula, references), ports with inferred shapes, and its last profile. With nothing selected,
// the pipeline's name, description and checks.
import { useEffect, useMemo, useState } from 'react';
import { useApp } from '../app-context.js';
import { PORT_COLORS } from '../model/catalog.js';
import { formatBytes, formatGflops, formatMs, formatNumber, formatPortShape } from '../model/format.js';
import { paramIssues, setPath, switchVariant } from '../model/params.js';
import { shallowEqual, useStore } from '../state/store.js';
import { ParamForm } from './ParamForm.js';
import { AccuracySection } from './Accuracy.js';

export function Inspector() {
  const { editor } = useApp();
  const selected = useStore(editor.store, (s) => s.nodes.filter((n) => n.selected).map((n) => n.id), shallowEqual);
  return (
    <aside className="side right" aria-label="Inspector">
      <div className="side-body" data-testid="inspector">
        {selected.length === 1 ? (
          <NodeInspector id={selected[0]!} key={selected[0]} />
        ) : selected.length > 1 ? (
          <div className="insp-section">
            <div className="insp-title">{selected.length} nodes selected</div>
            <p className="muted">Delete, duplicate (Ctrl D) or copy them as pipeline JSON (Ctrl C).</p>
          </div>
        ) : (
          <PipelineInspector />
        )}
      </div>
    </aside>
  );
}

function NodeInspector({ id }: { id: string }) {
  const { editor, catalog, analysis, metrics, ui } = useApp();
  const node = useStore(editor.store, (s) => s.nodes.find((n) => n.id === id));
  const shapes = useStore(analysis.store, (s) => s.shapes[id]);
  const nodeIssues = useStore(analysis.store, (s) => s.byNode[id]);
  const cost = useStore(analysis.store, (s) => s.costs[id]);
  const m = useStore(metrics, (s) => s.nodes[id]);
  const [idDraft, setIdDraft] = useState(id);
  const [idError, setIdError] = useState<string | null>(null);
  const def = node ? catalog.def(node.data.type) : undefined;
  const params = node?.data.params ?? {};
  const issues = useMemo(() => (def ? paramIssues(def, params) : new Map<string, string>()), [def, params]);
  useEffect(() => setIdDraft(id), [id]);
  if (!node) return null;
  if (!def)
    return (
      <div className="insp-section">
        <div className="insp-title">{id}</div>
        <div className="issue">Unknown node type “{node.data.type}”: this app has no such node. Its params are kept as they are.</div>
      </div>
    );

  const variant = typeof params.variant === 'string' ? params.variant : undefined;
  const vdoc = variant ? def.variants?.[variant] : undefined;
  const schema = catalog.paramSchema(def.type, params);
  const fam = catalog.familyStyle(def.family);
  const refs = vdoc?.references ?? def.references;
  const p = m?.profile;

  return (
    <>
      <div className="insp-section">
        <div className="insp-title">
          <span className="pal-swatch" style={{ background: fam.color, width: 10, height: 10 }} />
          {def.title}
        </div>
        <div className="insp-type mono">
          {def.type} · {fam.title}
        </div>
        <div className="field" style={{ marginTop: 10 }}>
          <label className="field-label" htmlFor="insp-id">
            id
          </label>
          <input
            id="insp-id"
            className="input mono"
            value={idDraft}
            aria-invalid={idError ? true : undefined}
            data-testid="node-id"
            onChange={(e) => {
              setIdDraft(e.target.value);
              setIdError(null);
            }}
            onBlur={() => {
              const err = editor.renameNode(id, idDraft);
              if (err) setIdError(err);
            }}
            onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
          />
          {idError && <div className="field-error">{idError}</div>}
        </div>
        {def.variants && (
          <div className="field">
            <label className="field-label" htmlFor="insp-variant">
              variant
            </label>
            <select
              id="insp-variant"
              className="input"
              data-testid="param-variant"
              value={variant ?? ''}
              onChange={(e) => editor.setParams(id, switchVariant(catalog, def.type, params, e.target.value))}
            >
              {Object.entries(def.variants).map(([name, d]) => (
                <option key={name} value={name}>
                  {d.title} ({name})
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="insp-summary">{vdoc?.summary ?? def.summary}</div>
        {(vdoc?.formula ?? def.formula) && <div className="formula">{vdoc?.formula ?? def.formula}</div>}
        {refs.length > 0 && (
          <ul className="refs">
            {refs.map((r) => (
              <li key={r.title}>
                {r.title} ({r.year})
              </li>
            ))}
          </ul>
        )}
      </div>
      <AccuracySection id={id} />
      <div className="insp-section">
        <div className="side-title">Parameters</div>
        <ParamForm
          idPrefix={`p-${id}`}
          schema={schema}
          value={params}
          issues={issues}
          skip={['variant']}
          onChange={(path, v) => editor.setParams(id, setPath(params, path, v), `param:${id}:${path.join('.')}`)}
          onCommit={() => editor.seal()}
        />
        {issues.get('') && <div className="field-error">{issues.get('')}</div>}
        {nodeIssues?.map((i, k) => (
          <div className="issue" key={k} data-testid="node-issue">
            {i.message}
          </div>
        ))}
      </div>
      <div className="insp-section">
        <div className="side-title">Ports</div>
        <div className="port-list">
          {Object.entries(def.inputs).map(([port, spec]) => (
            <PortLine key={`i-${port}`} dir="in" port={port} kind={spec.kind} text={spec.optional ? 'optional' : ''} />
          ))}
          {Object.entries(def.outputs).map(([port, spec]) => (
            <PortLine
              key={`o-${port}`}
              dir="out"
              port={port}
              kind={spec.kind}
              text={formatPortShape(shapes?.[port])}
              onClick={m?.outputs?.[port] ? () => (ui.set({ preview: { node: id, port } }), ui.showTab('preview')) : undefined}
            />
          ))}
        </div>
      </div>
      {(cost || p) && (
        <div className="insp-section">
          <div className="side-title">Cost and profile</div>
          <dl className="kv">
            {cost && (
              <>
                <dt>predicted FLOPs</dt>
                <dd>{formatNumber(cost.flops, 3)}</dd>
                <dt>predicted workspace</dt>
                <dd>{formatBytes(cost.workspaceBytes)}</dd>
              </>
            )}
            {cost?.note && (
              <>
                <dt>note</dt>
                <dd>{cost.note}</dd>
              </>
            )}
            {p && (
              <>
                <dt>status</dt>
                <dd>{m?.status}</dd>
                <dt>wall time</dt>
                <dd>{m?.status === 'cached' ? 'served from the result cache' : formatMs(p.wallMs)}</dd>
                {m?.status !== 'cached' && (
                  <>
                    <dt>achieved</dt>
                    <dd>{formatGflops(p.gflops)} GFLOP/s</dd>
                  </>
                )}
                <dt>peak (measured)</dt>
                <dd>{formatBytes(p.peakBytes)}</dd>
                <dt>peak (predicted)</dt>
                <dd>{formatBytes(p.predictedPeakBytes)}</dd>
                <dt>outputs</dt>
                <dd>{formatBytes(p.outputBytes)}</dd>
              </>
            )}
          </dl>
          {m?.error && <div className="issue">{m.error}</div>}
        </div>
      )}
    </>
  );
}

function PortLine({ dir, port, kind, text, onClick }: { dir: 'in' | 'out'; port: string; kind: keyof typeof PORT_COLORS; text: string; onClick?: () => void }) {
  return (
    <>
      <span className="port-dot" style={{ background: PORT_COLORS[kind] }} title={kind} />
      <span>
        <span className="muted">{dir === 'in' ? '→ ' : '← '}</span>
        {onClick ? (
          <button className="link" onClick={onClick}>
            {port}
          </button>
        ) : (
          port
        )}
      </span>
      <span className="mono muted" style={{ textAlign: 'right' }}>
        {text || kind}
      </span>
    </>
  );
}

function PipelineInspector() {
  const { editor, analysis, metrics } = useApp();
  const meta = useStore(editor.store, (s) => s.meta);
  const counts = useStore(editor.store, (s) => `${s.nodes.length} nodes · ${s.edges.length} edges`);
  const a = useStore(analysis.store, (s) => s);
  const checks = useStore(metrics, (s) => s.run.checks);
  const [desc, setDesc] = useState(meta.description ?? '');
  useEffect(() => setDesc(meta.description ?? ''), [meta.description]);
  return (
    <>
      <div className="insp-section">
        <div className="insp-title">Pipeline</div>
        <div className="insp-type">{counts}</div>
        <div className="field" style={{ marginTop: 10 }}>
          <label className="field-label" htmlFor="pipe-desc">
            description
          </label>
          <textarea
            id="pipe-desc"
            className="input"
            style={{ fontFamily: 'inherit', fontSize: 12.5 }}
            rows={5}
            value={desc}
            onChange={(e) => setDesc(e.target.value)}
            onBlur={() => desc !== (meta.description ?? '') && editor.setMeta({ description: desc || undefined })}
          />
        </div>
        <dl className="kv">
          <dt>compiles</dt>
          <dd style={{ color: a.ok ? 'var(--ok)' : 'var(--err)' }}>{a.ok ? 'yes' : `${a.issues.length} problem(s)`}</dd>
          {a.ok && (
            <>
              <dt>predicted peak</dt>
              <dd>{formatBytes(a.predictedPeakBytes)}</dd>
              <dt>predicted FLOPs</dt>
              <dd>{formatNumber(Object.values(a.costs).reduce((n, c) => n + c.flops, 0), 3)}</dd>
            </>
          )}
        </dl>
      </div>
      {meta.checks && meta.checks.length > 0 && (
        <div className="insp-section">
          <div className="side-title">Checks</div>
          {meta.checks.map((c, i) => {
            const key = checkKey(c);
            const rs = checks.filter((r) => checkKey(r.check) === key);
            const ok = rs.length ? rs.every((r) => r.ok) : undefined;
            return (
              <div className="check" key={i}>
                <span className={ok === undefined ? 'muted' : ok ? 'pass' : 'fail'}>{ok === undefined ? '·' : ok ? '✓' : '✗'}</span>
                <span>
                  {rs.length ? (
                    rs.map((r, k) => (
                      <div key={k} className="mono" style={{ fontSize: 11.5 }}>
                        {r.text.split(' — ')[0]}
                      </div>
                    ))
                  ) : (
                    <span className="mono">
                      {c.node}.{c.metric ?? (c as { profile?: string }).profile}
                    </span>
                  )}
                  {c.why && <div className="muted">{c.why}</div>}
                </span>
              </div>
            );
          })}
        </div>
      )}
      <div className="insp-section muted">Select a node to edit its parameters. Click an edge label or an output name after a run to preview its value.</div>
    </>
  );
}

/** Identity of a check whatever defaults parsing added (port, factor), to match run results to the document's checks. */
export function checkKey(c: object): string {
  const r = c as Record<string, unknown>;
  const ref = (v: unknown) => {
    if (!v || typeof v !== 'object') return v ?? null;
    const o = v as Record<string, unknown>;
    return [o.node, o.port ?? 'metrics', o.metric ?? null, o.profile ?? null];
  };
  return JSON.stringify([...(ref(r) as unknown[]), ref(r.lt), ref(r.le), ref(r.gt), ref(r.ge), r.factor ?? 1]);
}
