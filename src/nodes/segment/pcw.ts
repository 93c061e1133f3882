// Parallel Context Windows: the context is cut into windows that each reuse positions 0..C−1 and
// attend only within themselves; the task tokens at the end continue at C, C+1, … and see everything.
import { z } from 'zod';
import { MAX_LEN, commonParams, maxOf, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('pcw'),
  ...commonParams,
  contextWindowSize: z.number().int().min(1).max(MAX_LEN).default(512).describe('C: tokens per context window (the last may be shorter)'),
  taskTokens: z.number().int().min(0).max(MAX_LEN).default(16).describe('the last tokens: the task / question that attends to every window'),
});
type P = z.infer<typeof params>;

function check(p: P, T: number): void {
  if (p.taskTokens >= T) throw new Error(`pcw: taskTokens (${p.taskTokens}) must be fewer than the ${T} tokens, leaving some context`);
}

export const pcw = defineVariant(params, {
  doc: {
    title: 'Parallel Context Windows',
    summary:
      'Context windows of C tokens each reuse positions 0..C−1 and see only themselves; the task tokens get positions C, C+1, … and attend to every window.',
    formula: 'window w: positions t − w·C, segment w; task token k: position C + k, sees all keys',
    references: [{ title: 'Parallel Context Windows for Large Language Models', year: 2023 }],
  },
  check,
  segment(p, T) {
    check(p, T);
    const C = p.contextWindowSize;
    const context = T - p.taskTokens;
    const count = Math.ceil(context / C);
    const positions = new Int32Array(T);
    const segment = new Int32Array(T);
    for (let t = 0; t < T; t++) {
      const w = t < context ? Math.floor(t / C) : count;
      segment[t] = w;
      positions[t] = t < context ? t - w * C : C + (t - context);
    }
    const windows = Array.from({ length: count }, (_, w) => [w * C, Math.min((w + 1) * C, context)]);
    return {
      positions,
      terms: [{ type: 'segments', segment, seeAll: [count] }],
      windows: { tokens: T, count, windows, task: [context, T], maxPosition: maxOf(positions) },
    };
  },
});
