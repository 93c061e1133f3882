// Keeps the compiler's view of the document current: re-analyzes when the document's structure
// changes (not on moves or selection), right away for small graphs and debounced for large ones.
import type { Registry } from '../../engine/registry.js';
import type { CompileIssue } from '../../engine/compile/compile.js';
import { analyze, type Analysis } from '../model/analysis.js';
import type { Editor } from './editor.js';
import { createStore } from './store.js';
import { dict } from '../../engine/dict.js';
import type { AdapterCaps } from '../../engine/compile/adapter-needs.js';

export interface AnalysisState extends Analysis {
  /** Issues by node id. */
  byNode: Record<string, CompileIssue[]>;
  /** Issues that name no node. */
  general: CompileIssue[];
}

// Every record here is keyed by node id: no prototype, so an id like `constructor` finds nothing inherited.
const empty: AnalysisState = { ok: true, issues: [], warnings: [], shapes: dict(), costs: dict(), predictedPeak: dict(), predictedPeakBytes: 0, byNode: dict(), general: [] };

/** `adapter`: the run's WebGPU adapter now (undefined off webgpu); call refresh when it changes. */
export function createAnalysis(editor: Editor, registry: Registry, adapter: () => AdapterCaps | undefined = () => undefined) {
  const store = createStore<AnalysisState>(empty);
  let lastRev = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const run = () => {
    timer = undefined;
    const a = analyze(editor.doc(), registry, adapter());
    const byNode = dict<CompileIssue[]>();
    const general: CompileIssue[] = [];
    for (const i of a.issues) {
      if (i.nodeId) (byNode[i.nodeId] ??= []).push(i);
      else general.push(i);
    }
    store.set({ ...a, byNode, general });
  };

  const onChange = () => {
    const s = editor.store.get();
    if (s.structRev === lastRev) return;
    lastRev = s.structRev;
    if (timer) clearTimeout(timer);
    const rev = lastRev;
    if (s.nodes.length < 150) run();
    // A large graph: debounced, then once the browser is idle, so that a file just opened is drawn
    // first and its shapes and issues follow (compiling 500 nodes took a third of the open time).
    else
      timer = setTimeout(() => {
        if (typeof requestIdleCallback !== 'function') return run();
        timer = undefined;
        requestIdleCallback(() => rev === lastRev && run(), { timeout: 1000 });
      }, 120);
  };
  editor.store.subscribe(onChange);
  onChange();
  return { store, refresh: run };
}
