// What the evaluation views draw, apart from React: eval.perplexity nodes' metrics as one line per
// node over the union of their lengths (perplexity against length), and an eval.passkey node's
// accuracy[length][depth] as heat-map cells with a colour per accuracy.
import type { MetricValue } from '../../engine/values.js';

type Metrics = Record<string, MetricValue>;

export interface PerplexitySeries {
  id: string;
  /** The node id, with the technique when it is not the plain default (e.g. "dynamic · rope dynamic"). */
  label: string;
  /** Perplexity at each of `xs` (null where this node has no such length). */
  ys: (number | null)[];
}

const numbers = (v: MetricValue | undefined): number[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;

/**
 * Lines of perplexity against length: xs is every length any node scored, ascending; a node whose
 * metrics are missing or malformed (lengths and perplexity lists of different lengths) is left out.
 */
export function perplexitySeries(nodes: { id: string; metrics: Metrics | undefined }[]): { xs: number[]; series: PerplexitySeries[] } {
  const ok = nodes.flatMap(({ id, metrics }) => {
    const lengths = numbers(metrics?.lengths);
    const ppl = numbers(metrics?.perplexity);
    if (!lengths || !ppl || lengths.length !== ppl.length || !lengths.length) return [];
    return [{ id, metrics: metrics!, byLength: new Map(lengths.map((L, i) => [L, ppl[i]!])) }];
  });
  const xs = [...new Set(ok.flatMap((n) => [...n.byLength.keys()]))].sort((a, b) => a - b);
  const series = ok.map(({ id, metrics, byLength }) => {
    const parts = [metrics.rope && metrics.rope !== 'rope' ? `rope ${String(metrics.rope)}` : '', metrics.attention && metrics.attention !== 'naive' ? String(metrics.attention) : ''].filter(Boolean);
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

/** An eval.passkey node's grid (rows: lengths, columns: depths), or undefined when the metrics do not hold one. */
export function passkeyGrid(metrics: Metrics | undefined): { lengths: number[]; depths: number[]; cells: PasskeyCell[][]; mean: number } | undefined {
  const lengths = numbers(metrics?.lengths);
  const depths = numbers(metrics?.depths);
  const acc = metrics?.accuracy;
  if (!lengths || !depths || !Array.isArray(acc) || acc.length !== lengths.length) return undefined;
  const tokens = Array.isArray(metrics?.promptTokens) ? (metrics!.promptTokens as MetricValue[]) : [];
  const cells: PasskeyCell[][] = [];
  for (let i = 0; i < lengths.length; i++) {
    const row = numbers(acc[i]);
    if (!row || row.length !== depths.length) return undefined;
    const tok = numbers(tokens[i]);
    cells.push(row.map((accuracy, j) => ({ length: lengths[i]!, depth: depths[j]!, accuracy, ...(tok?.[j] !== undefined ? { promptTokens: tok[j] } : {}) })));
  }
  const all = cells.flat();
  return { lengths, depths, cells, mean: all.length ? all.reduce((s, c) => s + c.accuracy, 0) / all.length : 0 };
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
