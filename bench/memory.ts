// Predicted vs measured peak memory for every node type and variant: the cost model's prediction
// (workspace + outputs, what the memory guard checks) against the profiler's measured peak of the
// node alone, at T = 256 (the sizes of src/nodes/memory-cases.test.ts) and at T = 1024, on the cpu
// backend. Not a test.
import { memoryCases, measureCase } from '../src/nodes/memory-cases.js';

const log = (s: string) => process.stderr.write(s + '\n');
const kib = (b: number) => (b / 1024).toFixed(1);

export async function benchMemory(): Promise<string> {
  const lengths = [256, 1024];
  const rows: string[] = [];
  let worstUnder = Infinity;
  let worstOver = 0;
  for (const c of memoryCases()) {
    const cells: string[] = [];
    for (const T of lengths) {
      const big = memoryCases(T).find((x) => x.name === c.name)!;
      log(`  ${c.name} at T = ${T}`);
      const f = await measureCase(big, 'cpu', T);
      const ratio = f.measured > 0 ? f.predicted / f.measured : 1;
      if (f.measured > 64 * 1024) {
        worstUnder = Math.min(worstUnder, ratio);
        worstOver = Math.max(worstOver, ratio);
      }
      cells.push(kib(f.predicted), kib(f.measured), f.measured > 0 ? ratio.toFixed(2) : '–');
    }
    rows.push(`| ${c.name} | ${cells.join(' | ')} |`);
  }
  return [
    '## Predicted vs measured peak memory, every node family',
    '',
    'Each node type and variant in a small pipeline (src/nodes/memory-cases.ts: 4 query heads, 2 kv heads, D = 32 for attention; the',
    'text cases tokenize a fixed ~2 kB text, so their figures do not change with T), on the cpu backend. *Predicted*: the node alone,',
    'workspace + outputs, from its cost model and the (run-time) shapes: what the memory guard checks. *Measured*: the profiler\'s',
    'peak of the node alone (every tfjs allocation watched, plus tracked typed arrays and the outputs). `npm test` checks',
    '1 ≤ ratio ≤ 1.5 at T = 256 and 512 (src/nodes/memory-cases.test.ts); T = 1024 shows how the models extrapolate.',
    '',
    `| node | pred KiB, T = ${lengths[0]} | measured KiB | ratio | pred KiB, T = ${lengths[1]} | measured KiB | ratio |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Over nodes that measured more than 64 KiB: the ratio ranges from ${worstUnder.toFixed(2)} to ${worstOver.toFixed(2)}.`,
  ].join('\n');
}
