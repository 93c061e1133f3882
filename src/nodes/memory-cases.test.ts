// Predictions meet measurements: for every node type and variant, at small sizes, the cost model's
// predicted peak (workspace + outputs, from the shapes) is at least the peak the profiler measures,
// and at most 1.5× it — so the memory guard neither lets a run through that will not fit nor
// refuses one by a wide margin. A fixed SLACK absorbs what does not scale (metrics, small scratch).
import { describe, expect, it } from 'vitest';
import { memoryCases, measureCase, NOT_COVERED } from './memory-cases.js';
import { registry } from './index.js';

const SLACK = 16 * 1024;

// Two lengths, so a model that gets the growth wrong (a term in T missing) fails at one of them.
describe.each([256, 512])('predicted vs measured peak, every node family, T = %i', (T) => {
  for (const c of memoryCases(T))
    it(c.name, async () => {
      const f = await measureCase(c, 'cpu', T);
      if (process.env.CTXLAB_PRINT_MEMORY) console.log(`T=${T} ${c.name.padEnd(28)} ${String(f.predicted).padStart(10)} ${String(f.measured).padStart(10)} ${(f.predicted / f.measured).toFixed(3)}`);
      expect(f.predicted, `${c.name}: predicted ${f.predicted} B must cover measured ${f.measured} B`).toBeGreaterThanOrEqual(f.measured);
      expect(f.predicted, `${c.name}: predicted ${f.predicted} B is over 1.5× measured ${f.measured} B`).toBeLessThanOrEqual(1.5 * f.measured + SLACK);
    });
});

it('every node type and variant has a case (or is listed as not covered yet)', () => {
  const names = new Set(memoryCases().map((c) => c.name));
  const missing = registry.types().flatMap((t) => {
    if (NOT_COVERED.includes(t)) return [];
    const variants = Object.keys(registry.get(t)!.variants ?? {});
    // A type without variants may have several cases, one per mode: "ssm.aft/full".
    if (!variants.length) return names.has(t) || [...names].some((n) => n.startsWith(`${t}/`)) ? [] : [t];
    return variants.map((v) => `${t}/${v}`).filter((n) => !names.has(n));
  });
  expect(missing).toEqual([]);
});
