// The `context-lab` package entry: the engine's public API with the node library's registry, for Node scripts. See docs/api.md.
export { pipeline, PipelineBuilder, loadPipeline, validatePipeline, runPipeline, writeOutputs, metricsOf } from './api.js';
export type { NodeHandle, PortRef, NodeOptions, RunPipelineOptions, PipelineRun } from './api.js';
export { compile, checkMemoryBudget, formatIssue, type CompileIssue, type Plan } from '../engine/compile/compile.js';
export { PipelineLoadError } from '../engine/node/host.js';
export { startEngineWorker } from './engine-worker.js';
export type { EngineWorker } from '../engine/node/client.js';
export { encodeNpy, decodeNpy } from '../engine/io/npy.js';
export { DEFAULT_MAX_READ_BYTES, ReadRefusedError, isReadRefusal, type ReadAccess } from '../engine/io/read-policy.js';
export { ReadPolicy } from '../engine/node/read-policy.js';
export { registry, createRegistry } from '../nodes/index.js';
export { Registry } from '../engine/registry.js';
export { defineNode, ShapeError, type NodeDef, type RunContext, type BackendName } from '../engine/node.js';
export { tensor, f32, i32, type Tensor, type DType } from '../engine/tensor.js';
export type { Value, PortShape, MetricsValue } from '../engine/values.js';
export type { RunEvent, RunProfile, NodeProfile, BackendInfo } from '../engine/run/events.js';
export { PIPELINE_FORMAT, PIPELINE_VERSION, type Pipeline } from '../engine/schema/pipeline.js';
export { exportTypeScript } from '../engine/export/typescript.js';
export { exportPipelineJson, importPipelineJson } from '../engine/export/json.js';
