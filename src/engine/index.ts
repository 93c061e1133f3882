// The `context-lab` package entry: the engine's public API for Node scripts. See docs/api.md.
export { pipeline, PipelineBuilder, loadPipeline, validatePipeline, runPipeline, writeOutputs, metricsOf } from './api.js';
export type { NodeHandle, PortRef, NodeOptions, RunPipelineOptions, PipelineRun } from './api.js';
export { compile, checkMemoryBudget, formatIssue, type CompileIssue, type Plan } from './compile/compile.js';
export { PipelineLoadError } from './node/host.js';
export { startEngineWorker, type EngineWorker } from './node/client.js';
export { encodeNpy, decodeNpy } from './io/npy.js';
export { DEFAULT_MAX_READ_BYTES, ReadRefusedError, isReadRefusal, type ReadAccess } from './io/read-policy.js';
export { ReadPolicy } from './node/read-policy.js';
export { registry, createRegistry } from '../nodes/index.js';
export { Registry } from './registry.js';
export { defineNode, ShapeError, type NodeDef, type RunContext, type BackendName } from './node.js';
export { tensor, f32, i32, type Tensor, type DType } from './tensor.js';
export type { Value, PortShape, MetricsValue } from './values.js';
export type { RunEvent, RunProfile, NodeProfile, BackendInfo } from './run/events.js';
export { PIPELINE_FORMAT, PIPELINE_VERSION, type Pipeline } from './schema/pipeline.js';
export { exportTypeScript } from './export/typescript.js';
export { exportPipelineJson, importPipelineJson } from './export/json.js';
