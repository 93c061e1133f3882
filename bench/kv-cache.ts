// Cache memory figures: every kv-cache policy on one layer of a Llama-3.1-8B-shaped KV stream
// (8 KV heads, head dim 128), against the contiguous cache measured in the same run.
import { kvCache } from '../src/nodes/kv-cache/index.js';
import { syntheticQkv } from '../src/nodes/sources/synthetic-qkv.js';
import { runNode } from '../src/nodes/testing.js';
import type { MetricsValue } from '../src/engine/values.js';

export async function benchKvCache(): Promise<string> {
  const T = 4096;
  const { q, k, v } = syntheticQkv({ heads: 32, kvHeads: 8, seqLen: T, headDim: 128, seed: 5 });
  const prefillTokens = 2048;
  const configs: [string, Record<string, unknown>][] = [
    ['contiguous (maxTokens 8192)', { variant: 'contiguous', maxTokens: 8192 }],
    ['paged, block 16', { variant: 'paged', blockSize: 16 }],
    ['paged, block 16, 4 sequences, 2048-token shared prefix', { variant: 'paged', blockSize: 16, sequences: 4, sharedPrefixTokens: 2048 }],
    ['streaming, 4 sinks + 1020 recent', { variant: 'streaming', sinkTokens: 4, recentTokens: 1020 }],
    ['h2o, 512 heavy + 512 recent', { variant: 'h2o', heavyTokens: 512, recentTokens: 512 }],
    ['kivi 4-bit, group 32, residual 128', { variant: 'kivi', bits: 4 }],
    ['kivi 2-bit, group 32, residual 128', { variant: 'kivi', bits: 2 }],
  ];
  const rows: string[] = [];
  let fullBytes = 0;
  for (const [name, params] of configs) {
    const t0 = performance.now();
    const out = await runNode(kvCache, { k, v, q }, { ...params, prefillTokens }, { backend: 'cpu' });
    const ms = performance.now() - t0;
    const m = (out.metrics as MetricsValue).values as Record<string, number>;
    fullBytes ||= m.fullBytes!;
    rows.push(`| ${name} | ${(m.peakBytes! / 2 ** 20).toFixed(2)} | ${(m.finalBytes! / 2 ** 20).toFixed(2)} | ${m.tokensKept} | ${(m.finalBytes! / m.fullBytes!).toFixed(3)} | ${typeof m.fragmentation === 'number' ? m.fragmentation.toFixed(3) : '—'} | ${ms.toFixed(0)} |`);
  }
  return [
    '## KV-cache memory',
    '',
    `One layer of a Llama-3.1-8B-shaped stream (8 KV heads × head dim 128, float32 here), T = ${T} tokens: a prefill of ${prefillTokens},`,
    `then one token per decode step. "full" is ${(fullBytes / 2 ** 20).toFixed(2)} MiB (every token kept, no waste), the baseline of the ratio.`,
    'Bytes are what each policy holds (KIVI: packed codes, scales and minimums, plus the full-precision residual). ms is the',
    'host-side simulation on this machine (`npm run bench`).',
    '',
    '| policy | peak MiB | final MiB | tokens kept | final / full | fragmentation | ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
