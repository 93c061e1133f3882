// The analysis of a large graph waits for a quiet moment (a file just opened is drawn first) and is
// never applied for a document that has changed since.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from '../model/catalog.js';
import { docToGraph } from '../model/graph.js';
import { createAnalysis } from './analysis.js';
import { createEditor } from './editor.js';

/** `n` synthetic Q/K/V sources, one naive attention node fed by the first (with `complete`, by q, k and v). */
function graph(n: number, complete: boolean) {
  const nodes = [
    ...Array.from({ length: n }, (_, i) => ({ id: `s${i}`, type: 'source.synthetic-qkv', params: {}, position: { x: 0, y: i * 200 } })),
    { id: 'att', type: 'attention', params: { variant: 'naive' }, position: { x: 400, y: 0 } },
  ];
  const edges = (complete ? ['q', 'k', 'v'] : ['q']).map((p) => ({ from: `s0.${p}`, to: `att.${p}` }));
  return docToGraph({ format: 'context-lab/pipeline', version: 1, name: 't', nodes, edges });
}

describe('analysis of a large graph', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('runs at once on a small graph', () => {
    const e = createEditor(new Catalog(registry));
    e.load(graph(3, false), { name: 't.json' });
    const a = createAnalysis(e, registry);
    expect(a.store.get().byNode['att']!.map((i) => i.port).sort()).toEqual(['k', 'v']);
  });

  it('waits for the browser to be idle, and drops a result for an outdated document', () => {
    vi.useFakeTimers();
    const idle: (() => void)[] = [];
    vi.stubGlobal('requestIdleCallback', (f: () => void) => idle.push(f));
    const e = createEditor(new Catalog(registry));
    e.load(graph(200, false), { name: 't.json' });
    const a = createAnalysis(e, registry);
    vi.advanceTimersByTime(200);
    expect(idle).toHaveLength(1);
    expect(a.store.get().shapes['s0']).toBeUndefined(); // nothing yet: not idle
    // The document changes before the browser is idle: the first callback must not apply.
    e.load(graph(200, true), { name: 't.json' });
    idle[0]!();
    expect(a.store.get().shapes['s0']).toBeUndefined();
    vi.advanceTimersByTime(200);
    expect(idle).toHaveLength(2);
    idle[1]!();
    expect(a.store.get().byNode['att']).toBeUndefined(); // complete: no issues on att
    expect(a.store.get().shapes['att']!.out).toMatchObject({ kind: 'tensor' });
  });
});
