// What the model-memory view draws, apart from React: a memory plan's figures (as declared by
// model.memory's metrics schema) as bar segments,
// and the longest context that fits a budget the user types, from the same planner as the node.
import { parseModelConfig } from '../../nodes/model/config.js';
import { parseKvPolicy, planMemory, MAX_CONTEXT } from '../../nodes/model/memory.js';
import { memoryParams, parseSize } from '../../nodes/model/memory-node.js';
import type { ModelMemoryMetrics } from '../../nodes/model/metrics.js';

export interface Segment {
  key: string;
  label: string;
  bytes: number;
  color: string;
}

const COMPONENTS: [string, string, string][] = [
  ['embedding', 'embeddings', '#d97706'],
  ['position', 'position table', '#ca8a04'],
  ['attention', 'attention', '#2563eb'],
  ['mlp', 'MLP', '#7c3aed'],
  ['norm', 'norms', '#64748b'],
  ['head', 'LM head', '#db2777'],
];

/** Weights per component, then the KV cache and the prefill activations; empty parts left out. */
export function memorySegments(m: ModelMemoryMetrics): Segment[] {
  const out: Segment[] = COMPONENTS.map(([key, label, color]) => ({ key, label, color, bytes: m.components[key]?.bytes ?? 0 }));
  out.push({ key: 'kv', label: 'KV cache', color: '#16a34a', bytes: m.kvBytes });
  out.push({ key: 'activation', label: 'prefill activations', color: '#0d9488', bytes: m.activationBytes });
  return out.filter((s) => s.bytes > 0);
}

/** "72,472 tokens" for a budget typed as "24GiB", or why there is no figure. */
export function fitReadout(config: Record<string, unknown>, nodeParams: unknown, budgetText: string): { ok: boolean; text: string; maxContext?: number } {
  let budget: number;
  try {
    budget = parseSize(budgetText);
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
  try {
    const p = memoryParams.parse(nodeParams ?? {});
    const arch = parseModelConfig(config);
    const plan = planMemory(arch, { context: p.context, batch: p.batch, weights: p.weights, kv: p.kv, kvPolicy: parseKvPolicy(p.kvPolicy), prefillChunk: p.prefillChunk, fit: budget });
    const n = plan.maxContext!;
    const text =
      n === 0
        ? 'nothing fits: the weights and activations alone exceed the budget'
        : n >= MAX_CONTEXT
          ? 'every length fits: the cache stops growing'
          : `${n.toLocaleString('en-US')} tokens${n > arch.maxPositionEmbeddings ? ` (beyond max_position_embeddings ${arch.maxPositionEmbeddings.toLocaleString('en-US')})` : ''}`;
    return { ok: true, text, maxContext: n };
  } catch (err) {
    return { ok: false, text: (err as Error).message };
  }
}
