// The JSON Schema of the pipeline format, generated from the zod schemas and the node catalog.
import { z } from 'zod';
import type { Registry } from '../registry.js';
import { PIPELINE_FORMAT, PIPELINE_VERSION, PipelineSchema, PipelineNodeSchema } from './pipeline.js';

export function pipelineJsonSchema(registry: Registry): Record<string, unknown> {
  const base = z.toJSONSchema(PipelineSchema, { io: 'input' }) as Record<string, any>;
  const nodeBase = z.toJSONSchema(PipelineNodeSchema, { io: 'input' }) as Record<string, any>;
  const perType = registry.all().map((def) => {
    const params = z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete params.$schema;
    return {
      type: 'object',
      title: def.title,
      description: def.summary,
      properties: { ...nodeBase.properties, type: { const: def.type }, params },
      required: ['id', 'type'],
      additionalProperties: true,
    };
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://context-lab.dev/schema/pipeline-v${PIPELINE_VERSION}.json`,
    title: `Context Lab pipeline (${PIPELINE_FORMAT} v${PIPELINE_VERSION})`,
    ...Object.fromEntries(Object.entries(base).filter(([k]) => k !== '$schema')),
    properties: { ...base.properties, nodes: { type: 'array', items: { oneOf: perType } } },
  };
}
