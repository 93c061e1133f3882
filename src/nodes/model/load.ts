// model.load: a Hugging Face model folder (config.json + model.safetensors, or shards listed by
// model.safetensors.index.json) → a `model` value whose weights are read lazily, tensor by tensor,
// each by its byte range. Before compiling, `prepare` reads the headers to learn the bytes the
// weights will hold, so the memory guard refuses a model that does not fit before anything loads.
import { z } from 'zod';
import { defineNode, type FileHead, type RandomAccessFile } from '../../engine/node.js';
import {
  headerFromHead,
  parseShardIndex,
  READABLE_DTYPES,
  readHeader,
  readTensor,
  SafetensorsError,
  type SafetensorsHeader,
} from '../../engine/io/safetensors.js';
import { hashString } from '../../engine/run/hash.js';
import type { Tensor } from '../../engine/tensor.js';
import type { ModelValue, WeightSource } from '../../engine/values.js';
import { readModelConfig } from './config.js';
import { expectedTensors, forwardArch } from './llama.js';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

const joinPath = (dir: string, file: string) => `${dir.replace(/[\\/]+$/, '')}/${file}`;

const isMissing = (err: unknown) => {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === 'ENOENT' || (typeof e?.message === 'string' && /ENOENT|no such file/i.test(e.message));
};

/** float32 bytes of every float tensor in the headers: what the weights hold once read. */
export function weightBytes(headers: Iterable<SafetensorsHeader>): number {
  let n = 0;
  for (const h of headers)
    for (const e of h.entries.values()) if ((READABLE_DTYPES as readonly string[]).includes(e.dtype)) n += e.shape.reduce((a, d) => a * d, 1) * 4;
  return n;
}

interface Shard {
  path: string;
  file: RandomAccessFile;
  header: SafetensorsHeader;
}

/** The weights of a checkpoint: tensors by HF name, read on first use and kept (float32). */
export class SafetensorsWeights implements WeightSource {
  private readonly cache = new Map<string, Promise<Tensor>>();
  private resident = 0;

  constructor(
    private readonly shards: Shard[],
    private readonly where: Map<string, Shard>,
  ) {}

  /** Opens a folder's checkpoint: its headers are read and checked, no tensor data yet. */
  static async open(open: (path: string) => Promise<RandomAccessFile>, folder: string): Promise<SafetensorsWeights> {
    const indexPath = joinPath(folder, INDEX_FILE);
    let index: RandomAccessFile | undefined;
    try {
      index = await open(indexPath);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    const shardOf = async (path: string): Promise<Shard> => {
      const file = await open(path);
      return { path, file, header: await readHeader(file, path) };
    };
    if (!index) {
      let shard: Shard;
      try {
        shard = await shardOf(joinPath(folder, SINGLE_FILE));
      } catch (err) {
        if (isMissing(err))
          throw new SafetensorsError(`${folder}: no ${SINGLE_FILE} or ${INDEX_FILE} (only safetensors checkpoints are read; pytorch_model.bin is not)`);
        throw err;
      }
      return new SafetensorsWeights([shard], new Map([...shard.header.entries.keys()].map((n) => [n, shard])));
    }
    const map = parseShardIndex(new TextDecoder().decode(await index.read(0, index.size)), indexPath);
    const files = [...new Set(map.values())];
    const shards = new Map<string, Shard>();
    for (const f of files) shards.set(f, await shardOf(joinPath(folder, f)));
    const where = new Map<string, Shard>();
    for (const [name, f] of map) {
      const shard = shards.get(f)!;
      if (!shard.header.entries.has(name)) throw new SafetensorsError(`${indexPath}: weight_map puts "${name}" in ${f}, which has no such tensor`);
      where.set(name, shard);
    }
    return new SafetensorsWeights([...shards.values()], where);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  info(name: string) {
    const e = this.where.get(name)?.header.entries.get(name);
    return e ? { dtype: e.dtype, shape: e.shape } : undefined;
  }

  /** The file that holds a tensor, for messages. */
  fileOf(name: string): string | undefined {
    return this.where.get(name)?.path;
  }

  read(name: string): Promise<Tensor> {
    let p = this.cache.get(name);
    if (!p) {
      const shard = this.where.get(name);
      if (!shard) return Promise.reject(new SafetensorsError(`no tensor "${name}" in ${this.shards.map((s) => s.path).join(', ')}`));
      p = readTensor(shard.file, shard.header, name).then((t) => {
        this.resident += t.data.byteLength;
        return t;
      });
      // A failed read is not kept: the next call tries again.
      p.catch(() => this.cache.delete(name));
      this.cache.set(name, p);
    }
    return p;
  }

  residentBytes(): number {
    return this.resident;
  }

  /** float32 bytes of all float tensors, once read. */
  totalBytes(): number {
    return weightBytes(this.shards.map((s) => s.header));
  }

  fingerprint(): string {
    return hashString(
      JSON.stringify(this.shards.map((s) => [s.path, s.file.size, s.file.version ?? null, [...s.header.entries.values()].map((e) => [e.name, e.dtype, e.shape, e.begin])])),
    );
  }
}

/** Checks the checkpoint against its config: every tensor there, with the config's shape, in a float dtype. */
export function checkCheckpoint(model: ModelValue, weights: SafetensorsWeights): void {
  const arch = forwardArch(model);
  for (const t of expectedTensors(arch, model.config)) {
    const info = weights.info(t.name);
    if (!info) {
      if (t.optional) continue;
      throw new SafetensorsError(`${model.source}: missing tensor "${t.name}" (config.json implies [${t.shape.join(', ')}])`);
    }
    const file = weights.fileOf(t.name)!;
    if (info.shape.join(',') !== t.shape.join(','))
      throw new SafetensorsError(`${file}: tensor "${t.name}" has shape [${info.shape.join(', ')}] but config.json implies [${t.shape.join(', ')}]`);
    if (!(READABLE_DTYPES as readonly string[]).includes(info.dtype))
      throw new SafetensorsError(`${file}: tensor "${t.name}" is ${info.dtype}; only ${READABLE_DTYPES.join(', ')} are read`);
  }
}

/** The weights' float32 bytes from the headers in the files' first bytes, or undefined when a header is longer than that. */
async function bytesFromHeads(folder: string, readHead: (path: string) => Promise<FileHead | undefined>): Promise<number | undefined> {
  const indexPath = joinPath(folder, INDEX_FILE);
  const index = await readHead(indexPath);
  // An index longer than the head read is left to the run.
  if (index && index.bytes.length < index.size) return undefined;
  const files = index ? [...new Set(parseShardIndex(new TextDecoder().decode(index.bytes), indexPath).values())].map((f) => joinPath(folder, f)) : [joinPath(folder, SINGLE_FILE)];
  const headers: SafetensorsHeader[] = [];
  for (const path of files) {
    const head = await readHead(path);
    if (!head) return undefined;
    const h = headerFromHead(head.bytes, path, head.size);
    if (!h) return undefined;
    headers.push(h);
  }
  return weightBytes(headers);
}

const params = z.object({
  path: z.string().min(1).describe('model folder (config.json + model.safetensors or a sharded model.safetensors.index.json, HF layout), relative to the pipeline file'),
  weightsBytes: z
    .number().int().min(0).optional()
    .describe('float32 bytes the weights hold once read; when left out, the CLI and the engine worker read it from the safetensors headers before compiling (the memory guard counts it)'),
});

export const modelLoad = defineNode({
  type: 'model.load',
  family: 'model',
  title: 'Load model',
  summary:
    'Opens a Hugging Face model folder: config.json and safetensors weights (single or sharded; F32, F16, BF16). Headers are checked against the config (every tensor present with its shape); tensors are read lazily by byte range, as float32, when a consumer needs them.',
  formula: 'weights bytes = Σ over tensors of elements × 4 (float32 once read)',
  references: [{ title: 'safetensors: a simple, safe way to store and distribute tensors (Hugging Face)', year: 2022 }],
  params,
  inputs: {},
  outputs: { model: { kind: 'model', doc: 'config (config.json as written) and lazily read weights' } },
  infer: (_, p) => ({ model: p.weightsBytes === undefined ? { kind: 'model' } : { kind: 'model', bytes: p.weightsBytes } }),
  cost: (_, p) => ({ flops: 0, workspaceBytes: 0, note: p.weightsBytes === undefined ? 'weights: read at run time' : `weights ${p.weightsBytes} bytes f32` }),
  async run(ctx, _ins, p) {
    const folder = p.path.replace(/[\\/]+$/, '');
    const configPath = joinPath(folder, 'config.json');
    const { raw } = readModelConfig(await ctx.readFile(configPath), configPath);
    const weights = await SafetensorsWeights.open((path) => ctx.openFile(path), folder);
    const model: ModelValue = { kind: 'model', config: raw, weights, source: folder };
    checkCheckpoint(model, weights);
    if (p.weightsBytes !== undefined && p.weightsBytes !== weights.totalBytes())
      throw new SafetensorsError(`${folder}: the weights hold ${weights.totalBytes()} bytes as float32, the node declares weightsBytes = ${p.weightsBytes}`);
    ctx.progress(1);
    return { model };
  },
  flags: { volatile: true },
  async prepare(params, readHead) {
    if (typeof params.path !== 'string') return params;
    const folder = params.path.replace(/[\\/]+$/, '');
    const configPath = joinPath(folder, 'config.json');
    const config = await readHead(configPath);
    // A config that does not parse, or names no supported model, is refused before running.
    if (config && config.bytes.length === config.size) forwardArch({ kind: 'model', config: readModelConfig(config.bytes, configPath).raw, source: folder });
    if (params.weightsBytes !== undefined) return params;
    const bytes = await bytesFromHeads(folder, readHead);
    return bytes === undefined ? params : { ...params, weightsBytes: bytes };
  },
});
