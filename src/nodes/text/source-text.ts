// Text source: inline text, or a UTF-8 file resolved against the pipeline file's folder.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { text } from '../../engine/values.js';

const params = z
  .object({
    text: z.string().optional().describe('the text itself'),
    path: z.string().min(1).optional().describe('a UTF-8 text file, relative to the pipeline file'),
  })
  .refine((p) => (p.text === undefined) !== (p.path === undefined), {
    message: 'source.text needs exactly one of `text` or `path`',
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
  summary: 'Text typed in the node, or read from a UTF-8 file next to the pipeline.',
  references: [],
  params,
  inputs: {},
  outputs: { text: { kind: 'text' } },
  infer: () => ({ text: { kind: 'text' } }),
  cost: () => ({ flops: 0, workspaceBytes: 0, note: 'reads the file when `path` is set' }),
  async run(ctx, _ins, p) {
    return { text: text(p.path !== undefined ? await readText(ctx.readFile, p.path) : p.text!) };
  },
  // A file can change between runs.
  flags: { volatile: true },
});
