// Running pipelines in this Node process (tests, the worker_thread's inside): file access, backends.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { initBackend } from '../backends/tf.js';
import { formatIssue, jsonPath, type CompileIssue } from '../compile/compile.js';
import type { BackendName } from '../node.js';
import { NESTING_MESSAGE, tooDeep } from '../schema/limits.js';
import type { ExecEnv } from '../run/runtime.js';
import { nodeBackendSetup } from './setup.js';
import { ReadPolicy } from './read-policy.js';
import { openRandomAccess } from './ranged.js';

/**
 * Runs plans in this process. Files named in params are read only from the plan's folder and the
 * `allowRead` folders (see ../io/read-policy.ts).
 */
export async function nodeExecEnv(backend: BackendName, host = 'in-process', allowRead: string[] = []): Promise<ExecEnv> {
  const { tf, info } = await initBackend(backend, nodeBackendSetup(host));
  return {
    tf,
    backend: info,
    readFile: (p, baseDir) => ReadPolicy.of({ baseDir, allowRead }).read(p),
    openFile: (p, baseDir) => openRandomAccess(p, (q) => ReadPolicy.of({ baseDir, allowRead }).open(q)),
    resolvePath: (base, p) => (isAbsolute(p) ? p : resolve(base, p)),
    now: () => performance.now(),
  };
}

export async function readPipelineFile(path: string): Promise<unknown> {
  return parsePipelineText(await readFile(path, 'utf8'), path);
}

/**
 * Parses a pipeline's JSON (`source` names it in messages) and refuses nesting deeper than
 * MAX_NESTING, naming the JSON path, before anything clones or sends the document.
 */
export function parsePipelineText(text: string, source: string): unknown {
  let doc: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse refuses it.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PipelineLoadError([{ path: '$', message: `${source} is not valid JSON: ${(err as Error).message}` }]);
  }
  const deep = tooDeep(doc);
  if (deep) throw new PipelineLoadError([{ path: jsonPath(deep), message: `${source}: ${NESTING_MESSAGE}` }]);
  return doc;
}

export class PipelineLoadError extends Error {
  constructor(public issues: CompileIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'PipelineLoadError';
  }
}
