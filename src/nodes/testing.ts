// Test helpers for node kernels: run a node outside any graph, and compare it with its reference.
import { expect } from 'vitest';
import { initBackend } from '../engine/backends/tf.js';
import { nodeBackendSetup } from '../engine/node/setup.js';
import type { AnyNodeDef, BackendName, RunContext } from '../engine/node.js';
import type { Tensor } from '../engine/tensor.js';
import type { Value } from '../engine/values.js';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openRandomAccess } from '../engine/node/ranged.js';

export async function testContext(backend: BackendName = 'cpu', connected: string[] = []): Promise<RunContext> {
  const { tf, info } = await initBackend(backend, nodeBackendSetup('vitest'));
  if (info.name !== backend) throw new Error(`backend ${backend} is not available here: ${info.fallbackReason}`);
  return {
    nodeId: 'test', backend, tf,
    checkCancelled: () => {}, progress: () => {},
    isConnected: (p) => connected.includes(p),
    track: () => {}, release: () => {}, emit: () => {},
    readFile: async (p) => new Uint8Array(await readFile(resolve(p))),
    openFile: (p) => openRandomAccess(resolve(p)),
    resolvePath: (p) => resolve(p),
  };
}

/** Runs a node's `run` with params parsed through its schema (so defaults apply). */
export async function runNode(def: AnyNodeDef, inputs: Record<string, Value | undefined>, params: Record<string, unknown> = {},
  opts: { backend?: BackendName; connected?: string[] } = {}): Promise<Record<string, Value>> {
  const ctx = await testContext(opts.backend ?? 'cpu', opts.connected ?? Object.keys(def.outputs));
  const p = def.params.parse(params);
  return (await def.run(ctx, inputs as never, p)) as Record<string, Value>;
}

export function runReference(def: AnyNodeDef, inputs: Record<string, Value | undefined>, params: Record<string, unknown> = {}): Record<string, Value> {
  if (!def.reference) throw new Error(`${def.type} has no reference implementation`);
  return def.reference(inputs as never, def.params.parse(params)) as Record<string, Value>;
}

/** Elementwise |a − b| ≤ atol + rtol·|b|, reporting the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { atol?: number; rtol?: number } = {}, what = 'values'): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 0;
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const err = Math.abs(a - b) - rtol * Math.abs(b);
    if (!(err <= atol) && !(Number.isNaN(a) && Number.isNaN(b)) && !(a === b)) {
      if (worst < 0 || err > worstErr || Number.isNaN(err)) { worst = i; worstErr = err; }
    }
  }
  if (worst >= 0) expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}

/** Every tensor output of `run` on `backend` equals the plain-TS reference within tolerance. */
export async function expectParity(def: AnyNodeDef, backend: BackendName, inputs: Record<string, Value | undefined>,
  params: Record<string, unknown> = {}, tol: { atol?: number; rtol?: number } = {}): Promise<void> {
  const got = await runNode(def, inputs, params, { backend });
  const want = runReference(def, inputs, params);
  for (const [port, w] of Object.entries(want)) {
    if (w.kind !== 'tensor') continue;
    const g = got[port] as Tensor | undefined;
    expect(g, `${def.type}.${port} on ${backend}`).toBeDefined();
    expect(g!.shape, `${def.type}.${port} shape`).toEqual(w.shape);
    expectClose(g!.data, w.data, tol, `${def.type}.${port} on ${backend}`);
  }
}
