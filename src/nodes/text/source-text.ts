// Text source: inline text, or a UTF-8 file resolved against the pipeline file's folder.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { text } from '../../engine/values.js';
import { mobyDickText } from '../compress/corpus.js';

const params = z
  .object({
    text: z.string().optional().describe('the text itself'),
    path: z.string().min(1).optional().describe('a UTF-8 text file, relative to the pipeline file'),
    corpus: z.enum(['moby-dick']).optional().describe('a text shipped with the lab: "moby-dick" (Melville, 1851, ~1.2M characters, public domain)'),
    startChar: z.number().int().min(0).optional().describe('skip the first startChar characters (e.g. to read only the end of a corpus a model was not trained on)'),
    maxChars: z.number().int().min(1).optional().describe('keep only the first maxChars characters (after startChar)'),
  })
  .refine((p) => [p.text, p.path, p.corpus].filter((x) => x !== undefined).length === 1, {
    message: 'source.text needs exactly one of `text`, `path` or `corpus`',
    path: ['text'],
  });

export async function readText(readFile: (p: string) => Promise<Uint8Array>, path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`source.text: cannot read path "${path}": ${(err as Error).message}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`source.text: path "${path}" is not valid UTF-8 text`);
  }
}

export const sourceText = defineNode({
  type: 'source.text',
  family: 'source',
  title: 'Text',
  summary: 'Text typed in the node, read from a UTF-8 file next to the pipeline, or a corpus shipped with the lab.',
  references: [],
  params,
  inputs: {},
  outputs: { text: { kind: 'text' } },
  infer: () => ({ text: { kind: 'text' } }),
  cost: () => ({ flops: 0, workspaceBytes: 0, note: 'reads the file when `path` is set' }),
  async run(ctx, _ins, p) {
    const s = p.path !== undefined ? await readText(ctx.readFile, p.path) : p.corpus ? await mobyDickText() : p.text!;
    const start = p.startChar ?? 0;
    return { text: text(s.slice(start, p.maxChars !== undefined ? start + p.maxChars : undefined)) };
  },
  // A file can change between runs.
  flags: { volatile: true },
  // Reading the head before anything runs makes a path the read policy refuses (outside the
  // pipeline's folder, not a regular file) fail `validate` and `run` alike, naming this param.
  async prepare(params, readHead) {
    if (typeof params.path === 'string') await readHead(params.path);
    return params;
  },
});
