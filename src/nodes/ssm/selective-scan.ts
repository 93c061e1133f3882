// `ssm.selective-scan`: Mamba's selective scan as a node, on raw u, Δ, A, B, C (D, z, deltaBias optional).
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims, requireDivides, type Dim } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type PortShape } from '../../engine/values.js';
import { scanFlops, selectiveScanSequential, type ScanDims, type ScanTensors, chunkScanBytes } from './scan.js';
import { scanArraysOnWasm, scanTensorsOnBackend, wasmScanHere } from './scan-kernels.js';

export const MAMBA_REF = { title: 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces', year: 2023 };

export const scanImplParams = {
  scan: z.enum(['chunked', 'sequential']).default('chunked').describe('on the backend (the WGSL kernel on webgpu, the wasm SIMD kernel on wasm, a chunked parallel scan of tfjs ops on cpu), or the sequential recurrence (plain TS)'),
  chunkSize: z.number().int().min(1).max(4096).default(128).describe('positions per chunk of the parallel scan'),
};

const params = z.object({
  deltaSoftplus: z.boolean().default(false).describe('Δ ← softplus(Δ + deltaBias)'),
  ...scanImplParams,
});

/**
 * Shapes: u, delta, z are [Dm, L] or [batch, Dm, L]. B and C are [N, L] or [G, N, L] without a
 * batch, [batch, N, L] or [batch, G, N, L] with one (as in selective_scan_ref, where a 3-D B is
 * batched). A is [Dm, N]; D and deltaBias [Dm].
 */
function scanShapes(ins: Record<string, PortShape | undefined>): ScanDims {
  const u = ins.u;
  if (!u) throw new ShapeError('u', 'input "u" is not connected');
  if (u.kind !== 'tensor') throw new ShapeError('u', `"u" expects a tensor, got ${u.kind}`);
  const rank = u.shape?.length ?? 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('u', `"u" expects [Dm, L] or [batch, Dm, L], got rank ${rank}`);
  const batched = rank === 3;
  const env: Record<string, Dim> = {};
  const lead = batched ? ['batch'] : [];
  // bindDims drops a leading 1 when the rank is one more than the names; name the batch explicitly instead.
  const bind = (port: string, names: string[]) => {
    const s = ins[port];
    if (s?.kind === 'tensor' && s.shape && s.shape.length !== names.length)
      throw new ShapeError(port, `"${port}" expects [${names.join(', ')}], got [${s.shape.map((d) => d ?? '?').join(', ')}]`);
    return bindDims(env, port, s, names, { dtype: 'float32' });
  };
  bind('u', [...lead, 'Dm', 'L']);
  bind('delta', [...lead, 'Dm', 'L']);
  bind('A', ['Dm', 'N']);
  let G: Dim = 1;
  for (const port of ['B', 'C']) {
    const s = ins[port];
    const r = s?.shape?.length ?? lead.length + 2;
    if (r === lead.length + 2) bind(port, [...lead, 'N', 'L']);
    else if (r === lead.length + 3) G = bind(port, [...lead, 'G', 'N', 'L'])[lead.length]!;
    else throw new ShapeError(port, `"${port}" expects [${[...lead, 'N', 'L'].join(', ')}] or [${[...lead, 'G', 'N', 'L'].join(', ')}], got rank ${r}`);
  }
  if (ins.B?.shape && ins.C?.shape && ins.B.shape.length !== ins.C.shape.length)
    throw new ShapeError('C', `"B" and "C" must both be grouped or both not: ranks ${ins.B.shape.length} and ${ins.C.shape.length}`);
  if (ins.D) bind('D', ['Dm']);
  if (ins.z) bind('z', [...lead, 'Dm', 'L']);
  if (ins.deltaBias) bind('deltaBias', ['Dm']);
  requireDivides('B', 'groups of B/C', G, env.Dm ?? null);
  return { batched, batch: batched ? (env.batch ?? 0) : 1, Dm: env.Dm ?? 0, L: env.L ?? 0, N: env.N ?? 0, G: G ?? 1 };
}

const shapesOf = (ins: Record<string, Tensor | undefined>) =>
  scanShapes(Object.fromEntries(Object.entries(ins).map(([k, t]) => [k, t && tensorShape(t.dtype, t.shape)])));

/** Views of one batch element's data. */
function slice(ins: Record<string, Tensor | undefined>, d: ScanDims, b: number) {
  const { Dm, L, N, G } = d;
  const view = (t: Tensor | undefined, size: number, batchedPort: boolean) =>
    t && (t.data as Float32Array).subarray(batchedPort ? b * size : 0, batchedPort ? (b + 1) * size : size);
  const bat = d.batched;
  return {
    u: view(ins.u, Dm * L, bat)!,
    delta: view(ins.delta, Dm * L, bat)!,
    A: view(ins.A, Dm * N, false)!,
    B: view(ins.B, G * N * L, bat)!,
    C: view(ins.C, G * N * L, bat)!,
    D: view(ins.D, Dm, false),
    z: view(ins.z, Dm * L, bat),
    deltaBias: view(ins.deltaBias, Dm, false),
  };
}

function outShapes(d: ScanDims) {
  const lead = d.batched ? [d.batch] : [];
  const ld = d.batched ? ['batch'] : [];
  return { y: { shape: [...lead, d.Dm, d.L], dims: [...ld, 'Dm', 'L'] }, state: { shape: [...lead, d.Dm, d.N], dims: [...ld, 'Dm', 'N'] } };
}

export function selectiveScanReference(ins: Record<string, Tensor | undefined>, p: { deltaSoftplus: boolean }, tick?: () => void): { y: Tensor; state: Tensor } {
  const d = shapesOf(ins);
  const y = new Float32Array(d.batch * d.Dm * d.L);
  const state = new Float32Array(d.batch * d.Dm * d.N);
  for (let b = 0; b < d.batch; b++)
    selectiveScanSequential(slice(ins, d, b), d, p.deltaSoftplus,
      y.subarray(b * d.Dm * d.L, (b + 1) * d.Dm * d.L), state.subarray(b * d.Dm * d.N, (b + 1) * d.Dm * d.N), tick);
  const o = outShapes(d);
  return { y: f32(o.y.shape, y, o.y.dims), state: f32(o.state.shape, state, o.state.dims) };
}

export const selectiveScan = defineNode({
  type: 'ssm.selective-scan',
  family: 'ssm',
  title: 'Selective scan (S6)',
  summary:
    'Mamba\'s input-dependent state-space scan over raw u, Δ, A, B, C, with the semantics of mamba_ssm\'s selective_scan_ref: O(L) time and an O(Dm·N) state. Runs on the backend — a fused kernel on wasm (SIMD) and webgpu (WGSL), a chunked parallel scan of tfjs ops on cpu — or as the sequential recurrence in plain TS. (The ssm family is four node types rather than one with variants because their ports differ: the scan takes raw u/Δ/A/B/C, a Mamba block takes hidden states and owns its weights, RWKV takes k, v and per-channel decay and bonus, AFT takes q, k, v.)',
  formula: 'x_l = exp(Δ_l·A)·x_{l−1} + Δ_l·B_l·u_l;  y_l = C_l·x_l + D·u_l;  y ← y·silu(z)',
  references: [MAMBA_REF],
  params,
  inputs: {
    u: { kind: 'tensor', dims: ['Dm', 'L'], doc: 'input, [Dm, L] or [batch, Dm, L]' },
    delta: { kind: 'tensor', dims: ['Dm', 'L'], doc: 'step sizes Δ (before deltaBias and softplus)' },
    A: { kind: 'tensor', dims: ['Dm', 'N'], doc: 'state matrix (diagonal per channel), negative' },
    B: { kind: 'tensor', dims: ['N', 'L'], doc: 'input projection, [N, L] or [G, N, L] (channel d uses group ⌊d·G/Dm⌋); batched: [batch, …]' },
    C: { kind: 'tensor', dims: ['N', 'L'], doc: 'output projection, shaped like B' },
    D: { kind: 'tensor', optional: true, dims: ['Dm'], doc: 'skip connection' },
    z: { kind: 'tensor', optional: true, dims: ['Dm', 'L'], doc: 'gate: y·silu(z)' },
    deltaBias: { kind: 'tensor', optional: true, dims: ['Dm'], doc: 'added to Δ before softplus' },
  },
  outputs: {
    y: { kind: 'tensor', dims: ['Dm', 'L'], doc: 'output, shaped like u' },
    state: { kind: 'tensor', dims: ['Dm', 'N'], doc: 'the last state x_L' },
  },
  infer(ins) {
    const o = outShapes(scanShapes(ins));
    return { y: tensorShape('float32', o.y.shape, o.y.dims), state: tensorShape('float32', o.state.shape, o.state.dims) };
  },
  cost(ins, p) {
    const d = scanShapes(ins);
    const chunked = p.scan === 'chunked';
    const Lc = Math.min(p.chunkSize, d.L);
    return {
      flops: scanFlops(d),
      // Chunked: one chunk's scan (every level of it), plus the transposed inputs, Δ and Δ·u.
      workspaceBytes: chunked ? chunkScanBytes(d.Dm, Lc, d.N) + (6 * d.Dm + 2 * d.G * d.N) * d.L * 4 : d.N * 8,
      bytesMoved: 4 * d.batch * (3 * d.Dm * d.L + 2 * d.G * d.N * d.L + d.Dm * d.N),
      note: chunked ? `one chunk ${d.Dm}×${Lc}×${d.N} f32 per scan level (a, b and shifted copies)` : `the state, ${d.N} floats per channel`,
    };
  },
  async run(ctx, ins, p) {
    if (p.scan === 'sequential') return selectiveScanReference(ins, p, ctx.checkCancelled);
    const { tf } = ctx;
    const d = shapesOf(ins);
    const y = new Float32Array(d.batch * d.Dm * d.L);
    const state = new Float32Array(d.batch * d.Dm * d.N);
    // wasm: the SIMD kernel reads the host arrays as they are (no tfjs round trip).
    const onWasm = wasmScanHere(ctx);
    for (let b = 0; b < d.batch; b++) {
      const a = slice(ins, d, b);
      const progress = (f: number) => ctx.progress((b + f) / d.batch);
      const yb = y.subarray(b * d.Dm * d.L, (b + 1) * d.Dm * d.L);
      const sb = state.subarray(b * d.Dm * d.N, (b + 1) * d.Dm * d.N);
      if (onWasm) {
        await scanArraysOnWasm(ctx, a, d, p.deltaSoftplus, yb, sb, progress);
        continue;
      }
      // Sequence-major on the backend: [Dm, L] → [L, Dm], [G, N, L] → [L, G, N].
      const t = tf.tidy(() => ({
        u: tf.transpose(tf.tensor2d(a.u, [d.Dm, d.L])),
        delta: tf.transpose(tf.tensor2d(a.delta, [d.Dm, d.L])),
        A: tf.tensor2d(a.A, [d.Dm, d.N]),
        B: tf.transpose(tf.tensor3d(a.B, [d.G, d.N, d.L]), [2, 0, 1]),
        C: tf.transpose(tf.tensor3d(a.C, [d.G, d.N, d.L]), [2, 0, 1]),
        D: a.D && tf.tensor1d(a.D),
        z: a.z && tf.transpose(tf.tensor2d(a.z, [d.Dm, d.L])),
        deltaBias: a.deltaBias && tf.tensor1d(a.deltaBias),
      })) as ScanTensors;
      let r: { y: tfc.Tensor2D; state: tfc.Tensor2D } | undefined;
      try {
        r = await scanTensorsOnBackend(ctx, t, d, { deltaSoftplus: p.deltaSoftplus, chunkSize: p.chunkSize, progress });
        const yT = tf.transpose(r.y);
        yb.set((await yT.data()) as Float32Array);
        yT.dispose();
        sb.set((await r.state.data()) as Float32Array);
      } finally {
        tf.dispose(Object.values(t).filter((x) => x !== undefined) as tfc.Tensor[]);
        if (r) tf.dispose([r.y, r.state]);
      }
    }
    const o = outShapes(d);
    return { y: f32(o.y.shape, y, o.y.dims), state: f32(o.state.shape, state, o.state.dims) };
  },
  reference: (ins, p) => selectiveScanReference(ins, p),
});
