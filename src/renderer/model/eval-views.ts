// What the evaluation views draw, apart from React: perplexity metrics as one line per node over the
// union of their lengths (perplexity against length), and a passkey node's accuracy[length][depth]
// as heat-map cells with a colour per accuracy. The values come parsed by the schemas the nodes
// declare (src/nodes/model/metrics.ts), so malformed ones never reach here.
import type { PasskeyMetrics, PerplexityMetrics } from '../../nodes/model/metrics.js';

export interface PerplexitySeries {
  id: string;
  /** The node id, with the technique when it is not the plain default (e.g. "dynamic · rope dynamic"). */
  label: string;
  /** Perplexity at each of `xs` (null where this node has no such length). */
  ys: (number | null)[];
}

/** Lines of perplexity against length: xs is every length any node scored, ascending; nodes not run yet are left out. */
export function perplexitySeries(nodes: { id: string; metrics: PerplexityMetrics | undefined }[]): { xs: number[]; series: PerplexitySeries[] } {
  const ok = nodes.flatMap(({ id, metrics }) =>
    metrics?.lengths.length ? [{ id, metrics, byLength: new Map(metrics.lengths.map((L, i) => [L, metrics.perplexity[i]!])) }] : [],
  );
  const xs = [...new Set(ok.flatMap((n) => [...n.byLength.keys()]))].sort((a, b) => a - b);
  const series = ok.map(({ id, metrics, byLength }) => {
    const parts = [metrics.rope !== 'rope' ? `rope ${metrics.rope}` : '', metrics.attention !== 'naive' ? metrics.attention : ''].filter(Boolean);
    // A perplexity of Infinity or NaN (a window of all -inf scores) is not drawable on a log axis.
    const ys = xs.map((L) => {
      const y = byLength.get(L);
      return y !== undefined && Number.isFinite(y) && y > 0 ? y : null;
    });
    return { id, label: parts.length ? `${id} · ${parts.join(' · ')}` : id, ys };
  });
  return { xs, series };
}

export interface PasskeyCell {
  length: number;
  depth: number;
  accuracy: number;
  /** The prompt's actual token count, when the node reports it. */
  promptTokens?: number;
}

/** A passkey node's grid (rows: lengths, columns: depths) and its mean accuracy. */
export function passkeyGrid(m: PasskeyMetrics): { lengths: number[]; depths: number[]; cells: PasskeyCell[][]; mean: number } {
  const cells = m.lengths.map((length, i) =>
    m.accuracy[i]!.map((accuracy, j) => {
      const tokens = m.promptTokens[i]?.[j];
      return { length, depth: m.depths[j]!, accuracy, ...(tokens !== undefined ? { promptTokens: tokens } : {}) };
    }),
  );
  const all = cells.flat();
  return { lengths: m.lengths, depths: m.depths, cells, mean: all.length ? all.reduce((s, c) => s + c.accuracy, 0) / all.length : 0 };
}

/** Accuracy 0 → red, 0.5 → amber, 1 → green (clamped), as an rgb() colour. */
export function accuracyColor(a: number): string {
  const t = Math.min(1, Math.max(0, Number.isFinite(a) ? a : 0));
  const stops: [number, number, number][] = [
    [220, 38, 38],
    [234, 179, 8],
    [22, 163, 74],
  ];
  const x = t * 2;
  const i = Math.min(1, Math.floor(x));
  const f = x - i;
  const [a0, a1] = [stops[i]!, stops[i + 1]!];
  const c = a0.map((v, k) => Math.round(v + (a1[k]! - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
