// The pipeline file itself: import (older versions walk the migration chain, unknown fields are kept)
// and export (the current version, in the schema's key order, unknown fields written back after the
// known ones). export(import(x)) is a fixed point; nothing a user wrote is dropped.
import { jsonPath } from '../compile/compile.js';
import { migrate } from '../schema/migrations.js';
import { PipelineSchema, type Pipeline } from '../schema/pipeline.js';

export interface JsonImport {
  doc: Pipeline;
  /** The version the file was written in, when migrations ran. */
  migratedFrom?: number;
}

export class PipelineJsonError extends Error {
  constructor(public readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.name = 'PipelineJsonError';
  }
}

/** Parses a pipeline file's text (or an already parsed value). Node params are checked by compile(). */
export function importPipelineJson(input: string | unknown): JsonImport {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new PipelineJsonError([{ path: '$', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const m = migrate(raw);
  const parsed = PipelineSchema.safeParse(m.doc);
  if (!parsed.success) throw new PipelineJsonError(parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })));
  return m.applied.length ? { doc: parsed.data, migratedFrom: m.from } : { doc: parsed.data };
}

/** The file text for a document (of any version): two-space JSON with a final newline. */
export function exportPipelineJson(doc: unknown): string {
  return `${JSON.stringify(importPipelineJson(doc).doc, null, 2)}\n`;
}
