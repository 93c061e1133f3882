// The accuracy overlay's measurements, on demand: the document rewritten so each approximate node has
// its exact counterpart on the same inputs (model/accuracy.ts), run on the cpu backend in a worker of
// its own (the user's run and backend are untouched), then each pair compared.
import type { BackendName } from '../../engine/node.js';
import type { Registry } from '../../engine/registry.js';
import type { NodeProfile } from '../../engine/run/events.js';
import { dict } from '../../engine/dict.js';
import { startEngine, type EngineClient } from '../engine/client.js';
import { accuracyPipeline, compareValues, metricNumbers, type Comparison } from '../model/accuracy.js';
import { isIncomparable } from '../../engine/run/accuracy.js';
import type { Value } from '../../engine/values.js';
import type { Editor } from './editor.js';
import type { RunnerHost } from './runner.js';
import { createStore } from './store.js';

/** The backend the comparison runs on: the reference path, the same whatever the user runs on. */
export const ACCURACY_BACKEND: BackendName = 'cpu';

export interface PortAccuracy {
  port: string;
  /** The metrics field compared (perplexity, accuracy), when the port is a metrics port. */
  field?: string;
  /** Where the exact value came from, "node.port" (".field"). */
  exact: string;
  result: Comparison;
  /** A metrics field's numbers on both sides (row-major), for the inspector to show beside the error. */
  values?: { approx: number[]; exact: number[] };
}

export interface NodeAccuracy {
  /** What the node is compared with, for people. */
  against: string;
  ports: PortAccuracy[];
  /** The node's own wall time and peak memory and its exact sibling's, on the cpu backend in this computation. */
  ms?: number;
  exactMs?: number;
  peakBytes?: number;
  exactPeakBytes?: number;
}

export interface AccuracyState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  /** The document version measured (editor structRev): results of an older one are stale. */
  structRev?: number;
  error?: string;
  /** Wall time of the whole computation: the cpu run of both sides and the comparisons. */
  totalMs?: number;
  nodes: Record<string, NodeAccuracy>;
}

export function createAccuracy(editor: Editor, registry: Registry, host: RunnerHost = {}, memoryBudget: () => number | undefined = () => undefined) {
  const store = createStore<AccuracyState>({ phase: 'idle', nodes: dict() });
  let client: EngineClient | undefined;
  let seq = 0;

  async function measure(): Promise<void> {
    const mine = ++seq;
    const structRev = editor.store.get().structRev;
    store.set((s) => ({ ...s, phase: 'running', error: undefined }));
    const t0 = performance.now();
    try {
      const plan = accuracyPipeline(editor.doc(), registry);
      const nodes = dict<NodeAccuracy>();
      if (plan.pairs.length) {
        client ??= startEngine(host.readData ? (p) => host.readData!(p) : undefined);
        const baseDir = host.baseDirOf?.(editor.store.get().file.id);
        const r = await client.api.run(plan.doc, { backend: ACCURACY_BACKEND, keep: 'all', memoryBudget: memoryBudget(), baseDir });
        if (mine !== seq) return;
        if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
        if (r.errors.length) throw new Error(r.errors.map((e) => `${e.nodeId}: ${e.message}`).join('; '));
        const prof = new Map((r.profile.nodes as NodeProfile[]).filter((p) => p.status === 'done').map((p) => [p.nodeId, p]));
        for (const pair of plan.pairs) {
          const [a, b] = await Promise.all([client.api.getOutput(pair.node, pair.port), client.api.getOutput(pair.exact.node, pair.exact.port)]);
          if (mine !== seq) return;
          const sibling = plan.siblingOf[pair.node];
          const [own, exact] = [prof.get(pair.node), sibling ? prof.get(sibling) : undefined];
          const entry = (nodes[pair.node] ??= {
            against: plan.exactOf[pair.node]!, ports: [], ms: own?.wallMs, peakBytes: own?.peakBytes, ...(sibling ? { exactMs: exact?.wallMs, exactPeakBytes: exact?.peakBytes } : {}),
          });
          // The sibling's id is an implementation detail: name the exact value by what it is.
          const from = (sibling ? `exact.${pair.exact.port}` : `${pair.exact.node}.${pair.exact.port}`) + (pair.field === undefined ? '' : `.${pair.field}`);
          const result = compareValues(a, b, pair.field);
          entry.ports.push({ port: pair.port, exact: from, result, ...(pair.field === undefined ? {} : { field: pair.field, ...fieldValues(a, b, pair.field) }) });
        }
      }
      store.set({ phase: 'done', structRev, totalMs: performance.now() - t0, nodes });
    } catch (err) {
      if (mine === seq) store.set({ phase: 'failed', structRev, error: (err as Error).message, totalMs: performance.now() - t0, nodes: dict() });
    }
  }

  /** Stops a measurement under way (the overlay was turned off): its worker goes, the next starts afresh. */
  function cancel(): void {
    if (store.get().phase !== 'running') return;
    seq++;
    client?.terminate();
    client = undefined;
    store.set({ phase: 'idle', nodes: dict() });
  }

  /** Whether the measurements describe the document as it is now. */
  const fresh = (s: AccuracyState = store.get()) => s.phase === 'done' && s.structRev === editor.store.get().structRev;

  return { store, measure, cancel, fresh };
}
export type Accuracy = ReturnType<typeof createAccuracy>;

/** Both sides' numbers of a compared metrics field, when both have them. */
function fieldValues(a: Value | undefined, b: Value | undefined, field: string): { values?: PortAccuracy['values'] } {
  const [x, y] = [a && metricNumbers(a, field), b && metricNumbers(b, field)];
  return x && y && !isIncomparable(x) && !isIncomparable(y) ? { values: { approx: x.data, exact: y.data } } : {};
}
