// Structured Prompting: demonstration groups encoded independently with right-aligned positions;
// the test tokens attend to every group with the groups' attention rescaled by 1/M.
import { z } from 'zod';
import { MAX_LEN, commonParams, maxOf, ranges, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('structured'),
  ...commonParams,
  groups: z.number().int().min(1).max(MAX_LEN).default(4).describe('M: demonstration groups (equal split of the context unless groupLengths)'),
  groupLengths: z.array(z.number().int().min(1).max(MAX_LEN)).optional().describe('tokens of each group, when they differ; M entries summing to T − taskTokens'),
  taskTokens: z.number().int().min(0).max(MAX_LEN).default(16).describe('the last tokens: the test input'),
});
type P = z.infer<typeof params>;

/** Group lengths: the given list, or the context split as evenly as possible (longer groups first). */
function lengthsOf(p: P, T: number): number[] {
  const context = T - p.taskTokens;
  if (p.groupLengths) return p.groupLengths;
  return Array.from({ length: p.groups }, (_, g) => Math.floor(context / p.groups) + (g < context % p.groups ? 1 : 0));
}

function check(p: P, T: number): void {
  const context = T - p.taskTokens;
  if (p.groupLengths) {
    if (p.groupLengths.length !== p.groups)
      throw new Error(`structured: groupLengths has ${p.groupLengths.length} entries but groups = ${p.groups}`);
    const sum = p.groupLengths.reduce((a, b) => a + b, 0);
    if (sum !== context)
      throw new Error(`structured: groupLengths sum to ${sum} but T − taskTokens = ${T} − ${p.taskTokens} = ${context}`);
  } else if (context < p.groups) {
    throw new Error(`structured: ${context} context tokens (T − taskTokens) cannot fill groups = ${p.groups}`);
  }
}

export const structured = defineVariant(params, {
  doc: {
    title: 'Structured Prompting',
    summary:
      'M demonstration groups see only themselves, with positions right-aligned so every group ends at the same position; the test tokens follow and attend to all groups, whose attention weights are divided by M (a −ln M logit).',
    formula: 'group g of length L_g: positions Lmax − L_g … Lmax − 1; test: Lmax, Lmax+1, …; test→group scores += −ln M',
    references: [{ title: 'Structured Prompting: Scaling In-Context Learning to 1,000 Examples', year: 2022 }],
  },
  check,
  segment(p, T) {
    check(p, T);
    const lengths = lengthsOf(p, T);
    const M = lengths.length;
    const lmax = Math.max(...lengths);
    const positions = new Int32Array(T);
    const segment = new Int32Array(T).fill(M);
    const groups = ranges(lengths);
    groups.forEach(([s, e], g) => {
      for (let t = s; t < e; t++) {
        segment[t] = g;
        positions[t] = lmax - (e - s) + (t - s);
      }
    });
    const context = T - p.taskTokens;
    for (let t = context; t < T; t++) positions[t] = lmax + (t - context);
    const crossLogit = -Math.log(M);
    return {
      positions,
      terms: [{ type: 'segments', segment, seeAll: [M], crossLogit }],
      windows: { tokens: T, count: M, windows: groups, task: [context, T], crossLogit, maxPosition: maxOf(positions) },
    };
  },
});
