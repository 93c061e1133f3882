// `ctxlab plan <config.json>`: the whole-model memory plan of a Hugging Face config (the figures of
// the model.memory node), as a table for people or JSON for scripts.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { readModelConfig, type ModelArch } from '../nodes/model/config.js';
import { ASSUMPTIONS, DEFAULT_PREFILL_CHUNK, KV_DTYPES, MAX_CONTEXT, parseKvPolicy, planMemory, WEIGHT_DTYPES, type KvDtype, type MemoryPlan, type WeightDtype } from '../nodes/model/memory.js';
import { displayPath, parseBytes, table, terminalLines } from './format.js';
import { CliError, EXIT } from './run.js';

export interface PlanFlags {
  context?: string;
  batch: string;
  weights: WeightDtype;
  kv: KvDtype;
  kvPolicy: string;
  prefillChunk: string;
  fit?: string;
  json?: boolean;
}

/** A token count: 131072, or 128K (×1024). */
function tokens(text: string, flag: string, max = MAX_CONTEXT): number {
  const m = /^\s*(\d+)\s*([kK])?\s*$/.exec(text);
  const n = m ? Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${flag} "${text}": expected a whole number of tokens from 1 to ${max} (e.g. 131072 or 128K)`);
  return n;
}

/** Parses a flag's value; a failure is an invalid argument (exit 2) naming the flag. */
function flag<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new CliError(`${name}: ${(err as Error).message}`);
  }
}

const int = (n: number) => n.toLocaleString('en-US');
const gib = (b: number) => (b / 2 ** 30).toFixed(2);

/** The layers of a group, as a reader wants them: "0–31", "5, 11, 17, 23", "all but 5, 11, 17, 23", "0, 2, 4, … 40". */
function layerList(ix: number[], L: number): string {
  if (ix.every((v, i) => i === 0 || v === ix[i - 1]! + 1)) return ix.length === 1 ? `${ix[0]}` : `${ix[0]}–${ix[ix.length - 1]}`;
  if (ix.length <= 6) return ix.join(', ');
  const others = Array.from({ length: L }, (_, i) => i).filter((i) => !ix.includes(i));
  if (others.length <= 6) return `all but ${others.join(', ')}`;
  const step = ix[1]! - ix[0]!;
  const regular = ix.every((v, i) => i === 0 || v - ix[i - 1]! === step);
  return `${ix.slice(0, 3).join(', ')}, …${regular ? '' : ' (irregular),'} ${ix[ix.length - 1]}`;
}

function text(file: string, a: ModelArch, o: { context: number; batch: number; weights: string; kv: string; kvPolicy: string }, plan: MemoryPlan, fit?: number): string {
  const lines = [
    `${displayPath(file)}: ${a.modelType}, ${a.numLayers} layers, hidden ${a.hiddenSize}, ${a.numHeads} heads / ${a.numKvHeads} KV heads of ${a.headDim}${a.mla ? ` (MLA latent ${a.mla.kvLoraRank} + ${a.mla.qkRopeHeadDim})` : ''}`,
    `context ${int(o.context)} tokens · batch ${o.batch} · weights ${o.weights} · KV ${o.kv} · policy ${o.kvPolicy}`,
    '',
  ];
  const rows: (string | number)[][] = Object.entries(plan.components)
    .filter(([, c]) => c.params > 0)
    .map(([name, c]) => [`  ${name}`, int(c.params), int(c.bytes), gib(c.bytes)]);
  rows.push(['weights', int(plan.params), int(plan.weightsBytes), gib(plan.weightsBytes)]);
  rows.push(['KV cache', `${int(plan.kvBytesPerToken)} B/token`, int(plan.kvBytes), gib(plan.kvBytes)]);
  rows.push(['prefill activations', '', int(plan.activationBytes), gib(plan.activationBytes)]);
  rows.push(['total', '', int(plan.totalBytes), gib(plan.totalBytes)]);
  lines.push(table(['', 'params', 'bytes', 'GiB'], rows));
  // Layers with the same kind and cache, grouped.
  const groups = new Map<string, number[]>();
  for (const l of plan.layers) {
    const key = `${l.kind} layers: ${int(l.kvTokens)} tokens, ${int(l.kvBytes)} bytes each`;
    groups.set(key, [...(groups.get(key) ?? []), l.index]);
  }
  lines.push('');
  for (const [key, ix] of groups) lines.push(`${ix.length} ${key} (${layerList(ix, plan.layers.length)})`);
  if (fit !== undefined)
    lines.push(
      '',
      plan.maxContext! >= MAX_CONTEXT
        ? `max context in ${gib(fit)} GiB: the cache stops growing; every length up to ${int(MAX_CONTEXT)} tokens fits`
        : `max context in ${gib(fit)} GiB: ${int(plan.maxContext!)} tokens${plan.maxContext! > a.maxPositionEmbeddings ? ` (beyond max_position_embeddings ${int(a.maxPositionEmbeddings)})` : ''}`,
    );
  lines.push('', 'assumptions:', ...ASSUMPTIONS.map((s) => `  - ${s}`));
  return terminalLines(lines.join('\n'));
}

export async function planCommand(file: string, flags: PlanFlags): Promise<{ out: string; exitCode: number }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let arch: ModelArch;
  try {
    arch = readModelConfig(bytes, displayPath(file)).arch;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const context = flags.context === undefined ? arch.maxPositionEmbeddings : tokens(flags.context, '--context');
  const batch = tokens(flags.batch, '--batch', 65536);
  const prefillChunk = tokens(flags.prefillChunk, '--prefill-chunk');
  const kvPolicy = flag('--kv-policy', () => parseKvPolicy(flags.kvPolicy));
  const fit = flags.fit === undefined ? undefined : flag('--fit', () => parseBytes(flags.fit!));
  let plan: MemoryPlan;
  try {
    plan = planMemory(arch, { context, batch, weights: flags.weights, kv: flags.kv, kvPolicy, prefillChunk, fit });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const o = { context, batch, weights: flags.weights, kv: flags.kv, kvPolicy: flags.kvPolicy };
  if (flags.json) {
    const { maxContext, components, ...figures } = plan;
    const json = { config: displayPath(file), modelType: arch.modelType, ...o, prefillChunk, ...figures, ...(fit !== undefined ? { budgetBytes: fit, maxContext } : {}), components, assumptions: ASSUMPTIONS };
    return { out: JSON.stringify(json, null, 2), exitCode: EXIT.ok };
  }
  return { out: text(file, arch, o, plan, fit), exitCode: EXIT.ok };
}

export function registerPlan(program: Command, setExit: (code: number) => void): void {
  program
    .command('plan')
    .argument('<config.json>', "a Hugging Face model's config.json")
    .description('size a model from its config: parameters, weight bytes, KV cache per layer, prefill activations and the total; with --fit, the longest context that fits')
    .option('--context <N>', "tokens per sequence (131072 or 128K); default the config's max_position_embeddings")
    .option('--batch <B>', 'sequences held at once', '1')
    .addOption(new Option('--weights <dtype>', 'weight storage').choices(WEIGHT_DTYPES).default('bf16'))
    .addOption(new Option('--kv <dtype>', 'KV-cache storage').choices(KV_DTYPES).default('bf16'))
    .option('--kv-policy <policy>', 'full | streaming:SINKS+RECENT | h2o:BUDGET', 'full')
    .option('--prefill-chunk <N>', 'tokens per forward pass during prefill', String(DEFAULT_PREFILL_CHUNK))
    .option('--fit <size>', 'a memory budget (24GiB, 80GB, bytes): report the longest context that fits')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, flags: PlanFlags) => {
      const r = await planCommand(file, flags);
      process.stdout.write(r.out + '\n');
      setExit(r.exitCode);
    });
}
