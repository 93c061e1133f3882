// Model memory plans: each node that declares a memory plan (model.memory): its figures as one
// stacked bar (weights per component, KV cache, prefill activations) against a budget the user
// types, with the longest context that fits it — computed by the node's own planner from the config
// upstream.
import { useEffect, useState } from 'react';
import { dict } from '../../../engine/dict.js';
import { useApp } from '../../app-context.js';
import type { Catalog } from '../../model/catalog.js';
import { nodesDeclaring, sourcesOfKind } from '../../model/declared.js';
import type { FlowNode } from '../../model/graph.js';
import { formatBytes } from '../../model/format.js';
import { fitReadout, memorySegments } from '../../model/model-memory.js';
import { parseSize } from '../../../nodes/model/memory-node.js';
import { modelMemoryMetrics } from '../../../nodes/model/metrics.js';
import { shallowEqual, useStore } from '../../state/store.js';

/** Nodes (and their metrics port) that report a model memory plan. */
const memoryNodes = (nodes: FlowNode[], catalog: Catalog) => nodesDeclaring(nodes, (t) => catalog.def(t), modelMemoryMetrics);

export const hasModelMemory = (nodes: FlowNode[], catalog: Catalog) => memoryNodes(nodes, catalog).length > 0;

const GiB = 2 ** 30;
const gib = (b: number) => `${(b / GiB).toFixed(2)} GiB`;

export function ModelMemoryView() {
  const { editor, metrics, runner, catalog } = useApp();
  const declared = useStore(editor.store, (s) => memoryNodes(s.nodes, catalog), (a, b) => shallowEqual(a.map((d) => `${d.id}.${d.port}`), b.map((d) => `${d.id}.${d.port}`)));
  const ids = declared.map((d) => d.id);
  // The output feeding each node's input of kind `model`: that value's config is what the budget search needs.
  const upstream = useStore(editor.store, (s) => sourcesOfKind(ids, s.nodes, s.edges, (t) => catalog.def(t), 'model'), shallowEqual);
  const done = useStore(metrics, (s) => ids.map((id) => `${id}@${s.nodes[id]?.profile?.endMs ?? ''}`), shallowEqual);
  const summaries = useStore(metrics, (s) => s.nodes);
  const [budgetText, setBudgetText] = useState('24GiB');
  const [configs, setConfigs] = useState<Record<string, Record<string, unknown>>>(dict);

  useEffect(() => {
    let alive = true;
    const sources = [...new Set(upstream.filter(Boolean))];
    void Promise.all(
      sources.map(async (ref) => {
        const [node, port] = [ref.slice(0, ref.lastIndexOf('.')), ref.slice(ref.lastIndexOf('.') + 1)];
        return [ref, await runner.fetchValue(node, port).catch(() => undefined)] as const;
      }),
    ).then((pairs) => {
      if (!alive) return;
      const next = dict<Record<string, unknown>>();
      for (const [ref, v] of pairs) if (v?.kind === 'model') next[ref] = v.config;
      setConfigs(next);
    });
    return () => {
      alive = false;
    };
  }, [done.join(), upstream.join(), runner]); // eslint-disable-line react-hooks/exhaustive-deps

  // Values that do not match the declared schema are not drawn.
  const shown = declared.flatMap(({ id, port }) => {
    const m = modelMemoryMetrics.safeParse(summaries[id]?.outputs?.[port]?.metrics).data;
    return m ? [{ id, m }] : [];
  });
  if (!shown.length) return <div className="empty-note">Run the pipeline to see each model&apos;s memory plan.</div>;
  let budget: number | undefined;
  try {
    budget = parseSize(budgetText);
  } catch {
    budget = undefined;
  }
  const params = (id: string) => editor.store.get().nodes.find((n) => n.id === id)?.data.params;

  return (
    <div data-testid="model-memory-view" style={{ display: 'flex', flexDirection: 'column', gap: 12, padding: '4px 8px' }}>
      <label style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
        Budget
        <input
          data-testid="model-memory-budget"
          value={budgetText}
          onChange={(e) => setBudgetText(e.target.value)}
          style={{ width: 100 }}
          aria-invalid={budget === undefined}
          title="e.g. 24GiB, 80GiB, 80GB (powers of 1000) or bytes"
        />
        {budget === undefined && <span className="muted">a size such as 24GiB or 80GB</span>}
      </label>
      {shown.map(({ id, m }, i) => {
        const segs = memorySegments(m);
        const total = m.totalBytes;
        const scale = Math.max(total, budget ?? 0) || 1;
        const config = configs[upstream[ids.indexOf(id)] ?? ''];
        const fit = config && budget !== undefined ? fitReadout(config, params(id), budgetText) : undefined;
        return (
          <div key={id} data-testid={`model-memory-${i}`}>
            <div style={{ display: 'flex', gap: 12, alignItems: 'baseline' }}>
              <span className="mono">{id}</span>
              <span className="muted">
                {m.context.toLocaleString('en-US')} tokens · batch {m.batch} · weights {m.weights} · KV {m.kv} · {m.kvPolicy}
              </span>
              <span className="spacer" />
              <strong>{gib(total)}</strong>
            </div>
            <div style={{ position: 'relative', display: 'flex', height: 22, margin: '4px 0', background: 'var(--panel-2, #eef0f4)', borderRadius: 3 }}>
              {segs.map((s) => (
                <div key={s.key} title={`${s.label}: ${formatBytes(s.bytes)} (${gib(s.bytes)})`} style={{ width: `${(100 * s.bytes) / scale}%`, background: s.color }} />
              ))}
              {budget !== undefined && (
                <div title={`budget ${gib(budget)}`} style={{ position: 'absolute', left: `calc(${(100 * budget) / scale}% - 1px)`, top: -3, bottom: -3, width: 2, background: '#dc2626' }} />
              )}
            </div>
            <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, fontSize: 12 }}>
              {segs.map((s) => (
                <span key={s.key}>
                  <span style={{ display: 'inline-block', width: 9, height: 9, background: s.color, marginRight: 4 }} />
                  {s.label} {gib(s.bytes)}
                </span>
              ))}
            </div>
            <div data-testid={`model-memory-fit-${i}`} style={{ marginTop: 4 }}>
              max context that fits in {budget !== undefined ? gib(budget) : '…'}:{' '}
              {fit ? <strong className={fit.ok ? '' : 'muted'}>{fit.text}</strong> : <span className="muted">{config ? '' : 'run the pipeline (needs the config upstream)'}</span>}
            </div>
          </div>
        );
      })}
    </div>
  );
}
