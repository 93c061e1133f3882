// Node ids such as `constructor`, `hasOwnProperty`, `isPrototypeOf` and `__proto__` once blanked the
// editor (`l?.map is not a function`: the issue list of node "constructor" was Object's constructor).
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from '../model/catalog.js';
import { docToGraph } from '../model/graph.js';
import { createAnalysis } from './analysis.js';
import { createEditor } from './editor.js';
import { idleRun } from './metrics.js';
import { reduce } from './runner.js';
import { dict } from '../../engine/dict.js';

const IDS = ['constructor', 'hasOwnProperty', 'isPrototypeOf', '__proto__', 'toString'];

describe('editor state keyed by node id', () => {
  it('keeps issues and shapes of nodes named after Object.prototype keys apart from its members', () => {
    const e = createEditor(new Catalog(registry));
    e.load(
      docToGraph({
        format: 'context-lab/pipeline', version: 1, name: 't',
        nodes: [
          { id: '__proto__', type: 'source.synthetic-qkv', params: {}, position: { x: 0, y: 0 } },
          { id: 'constructor', type: 'attention', params: { variant: 'naive' }, position: { x: 300, y: 0 } },
          { id: 'hasOwnProperty', type: 'attention', params: { variant: 'naive' }, position: { x: 300, y: 200 } },
        ],
        // "constructor" misses k and v; "hasOwnProperty" is complete.
        edges: [
          { from: '__proto__.q', to: 'constructor.q' },
          ...['q', 'k', 'v'].map((p) => ({ from: `__proto__.${p}`, to: `hasOwnProperty.${p}` })),
        ],
      }),
      { name: 't.json' },
    );
    const a = createAnalysis(e, registry).store.get();
    // Looked up as the UI does, with the id in a variable.
    const issues = (id: string) => a.byNode[id];
    const shapes = (id: string) => a.shapes[id];
    expect(issues('constructor')!.map((i) => i.port).sort()).toEqual(['k', 'v']);
    for (const id of ['hasOwnProperty', 'isPrototypeOf', '__proto__', 'toString']) expect(issues(id), id).toBeUndefined();
    expect(Object.keys(shapes('__proto__') ?? {}).sort()).toEqual(['k', 'q', 'v']);
    expect(shapes('hasOwnProperty')!.out).toMatchObject({ kind: 'tensor' });
    expect(shapes('isPrototypeOf')).toBeUndefined();
  });

  it('run events for such ids land on their own entries', () => {
    const backend = { requested: 'cpu' as const, name: 'cpu' as const, host: 'test' };
    let s = reduce({ nodes: dict(), run: idleRun }, [{ type: 'run-started', backend, nodes: IDS, predictedPeakBytes: 0 }]);
    s = reduce(s, [{ type: 'node-started', nodeId: '__proto__', tMs: 0 }, { type: 'node-progress', nodeId: 'constructor', fraction: 0.5 }]);
    const node = (id: string) => s.nodes[id];
    expect(Object.keys(s.nodes).sort()).toEqual([...IDS].sort());
    expect(node('__proto__')).toEqual({ status: 'running', progress: 0 });
    expect(node('constructor')).toEqual({ status: 'running', progress: 0.5 });
    expect(node('hasOwnProperty')).toEqual({ status: 'queued' });
    const empty = reduce({ nodes: dict(), run: idleRun }, []).nodes;
    expect(empty['valueOf' as string]).toBeUndefined();
  });
});
