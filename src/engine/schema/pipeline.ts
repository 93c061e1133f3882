// The pipeline document, version 1. Objects are loose: fields this version does not know (written by
// a newer app) are kept on load and written back.
import { z } from 'zod';

export const PIPELINE_FORMAT = 'context-lab/pipeline';
export const PIPELINE_VERSION = 1;

export const NodeIdSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a node id starts with an ASCII letter or _ and holds only ASCII letters, digits, _ and - (it becomes a file and variable name)');

export const PortRefSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'a port reference is "nodeId.port"');

export const PositionSchema = z.looseObject({ x: z.number(), y: z.number() });

export const PipelineNodeSchema = z.looseObject({
  id: NodeIdSchema,
  type: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  position: PositionSchema.optional(),
  label: z.string().optional(),
  notes: z.string().optional(),
});

export const PipelineEdgeSchema = z.looseObject({
  from: PortRefSchema,
  to: PortRefSchema,
});

const PROFILE_FIELDS = ['wallMs', 'peakBytes', 'predictedPeakBytes', 'outputBytes', 'bytesAllocated', 'flops'] as const;

/** A number from a run: a metric of a node's metrics output, or a field of its profile. */
const refShape = {
  node: NodeIdSchema,
  port: z.string().default('metrics'),
  metric: z.string().min(1).optional().describe('dotted path into the metrics values, e.g. "maxAbs"'),
  profile: z.enum(PROFILE_FIELDS).optional().describe("a field of the node's profile, e.g. peakBytes"),
};
const oneSource = [(r: { metric?: string; profile?: string }) => (r.metric === undefined) !== (r.profile === undefined), 'give exactly one of "metric" and "profile"'] as const;
const MetricRefSchema = z.object(refShape).refine(...oneSource);

/**
 * A check on a run's metrics: `{ node, metric, lt: 1e-5 }` or against another metric
 * (`lt: { node, metric }`). The CLI evaluates them after a run; a failed check fails the run.
 */
export const CheckSchema = z.object({
  ...refShape,
  lt: z.union([z.number(), MetricRefSchema]).optional(),
  le: z.union([z.number(), MetricRefSchema]).optional(),
  gt: z.union([z.number(), MetricRefSchema]).optional(),
  ge: z.union([z.number(), MetricRefSchema]).optional(),
  factor: z.number().positive().default(1).describe('multiplies the right-hand side metric'),
  why: z.string().optional().describe('the claim this check stands for'),
}).refine(...oneSource);
export type Check = z.infer<typeof CheckSchema>;

export const PipelineSchema = z.looseObject({
  format: z.literal(PIPELINE_FORMAT),
  version: z.literal(PIPELINE_VERSION),
  name: z.string().default('untitled'),
  description: z.string().optional(),
  nodes: z.array(PipelineNodeSchema),
  edges: z.array(PipelineEdgeSchema).default([]),
  checks: z.array(CheckSchema).optional(),
});

export type PipelineNode = z.infer<typeof PipelineNodeSchema>;
export type PipelineEdge = z.infer<typeof PipelineEdgeSchema>;
export type Pipeline = z.infer<typeof PipelineSchema>;

export function splitPortRef(ref: string): { node: string; port: string } {
  const dot = ref.lastIndexOf('.');
  return { node: ref.slice(0, dot), port: ref.slice(dot + 1) };
}
