// Summaries of values for overlays and previews: shape, stats and a histogram, without copying data.
import type { Value } from '../values.js';
import type { ValueSummary } from './events.js';

const BINS = 32;

export function tensorStats(data: ArrayLike<number>): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    sq += x * x;
    n++;
  }
  const mean = n ? sum / n : 0;
  return { min: n ? min : 0, max: n ? max : 0, mean, std: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0 };
}

export function histogram(data: ArrayLike<number>, min: number, max: number, bins = BINS): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = max - min || 1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!Number.isFinite(x)) continue;
    counts[Math.min(bins - 1, Math.floor(((x - min) / width) * bins))]!++;
  }
  return counts;
}

export function summarize(v: Value): ValueSummary {
  switch (v.kind) {
    case 'tensor': {
      const stats = tensorStats(v.data);
      return { kind: 'tensor', dtype: v.dtype, shape: v.shape, bytes: v.data.byteLength, stats,
        histogram: { min: stats.min, max: stats.max, counts: histogram(v.data, stats.min, stats.max) } };
    }
    case 'text':
      return { kind: 'text', bytes: v.text.length * 2, preview: v.text.slice(0, 200) };
    case 'tokens':
      return { kind: 'tokens', shape: [v.ids.length], bytes: v.ids.byteLength + v.offsets.byteLength, preview: v.text.slice(0, 200) };
    case 'kv':
      return { kind: 'kv', shape: v.k.shape, bytes: v.k.data.byteLength + v.v.data.byteLength };
    case 'bias':
      return { kind: 'bias', bytes: 0, preview: v.terms.map((t) => t.type).join(' + ') };
    case 'metrics':
      return { kind: 'metrics', bytes: 0, metrics: v.values };
    case 'model':
      return { kind: 'model', bytes: v.weights?.residentBytes() ?? 0, preview: `${String(v.config.model_type ?? 'model')}${v.source ? ` · ${v.source}` : ''}${v.weights ? '' : ' (config only)'}` };
  }
}
