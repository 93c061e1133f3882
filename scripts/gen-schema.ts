// Writes schema/pipeline.schema.json from the zod schemas and the node catalog (`npm run schema`).
import { writeFileSync } from 'node:fs';
import { pipelineJsonSchema } from '../src/engine/schema/json-schema.js';
import { registry } from '../src/nodes/index.js';

export const SCHEMA_PATH = new URL('../schema/pipeline.schema.json', import.meta.url);

export function schemaText(): string {
  return JSON.stringify(pipelineJsonSchema(registry), null, 2) + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(SCHEMA_PATH, schemaText());
  console.log(`wrote ${SCHEMA_PATH.pathname}`);
}
