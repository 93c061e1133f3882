// Feature-map ("kernelized") attention shared by linear, cosFormer, SIMA and SOFT: the similarity
// of query i and key j is φ(q_i)·ψ(k_j), and the bias enters as a factor e^(bias_ij) (0 where
// masked), the same place it takes in softmax's e^(s_ij + bias_ij):
//   O_i = Σ_j w_ij v_j [/ Σ_j w_ij],  w_ij = φ(q_i)·ψ(k_j) · e^(bias_ij) · [j visible from i].
// Fast paths (no T×T work): non-causal without bias — O = φ(Q)(ψ(K)ᵀV); causal without bias or with
// ALiBi only — chunks of C rows: earlier keys through a running state S = Σ_j γ^(a−j) ψ(k_j)v_jᵀ
// (γ = e^(−slope), 1 without ALiBi), the chunk's own keys through a C×C masked tile. Any mask bias
// (segments, streaming) or non-causal ALiBi: every visible tile is computed (O(Tq·Tk·F)).
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import type { Cost, RunContext } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { biasPlan, forEachHead, groupOf, headView, scaleOf, uploadGroup, type AttentionInputs, type CostContext } from './common.js';
import type { AttentionShape } from './reference.js';

type TF = RunContext['tf'];

/** A variant's feature maps, applied to one head's queries/keys already multiplied by √scale. */
export interface FeatureMap {
  /** φ(Q) for head h: [Tq, F]. */
  queries(tf: TF, q: tfc.Tensor2D, h: number): tfc.Tensor2D;
  /** ψ(K) for kv head g: [Tk, F]. */
  keys(tf: TF, k: tfc.Tensor2D, g: number): tfc.Tensor2D;
  /** Divide by Σ_j w_ij (linear, cosFormer) or not (SIMA, SOFT as published). */
  normalize: boolean;
  /** Frees tensors the maps kept between calls (SOFT's landmarks). */
  dispose?(): void;
}

const CHUNK = 64;
const QUERY_BLOCK = 64;
const KEY_TILE = 256;

export async function featureAttention(ctx: RunContext, { q, k, v, bias }: AttentionInputs, p: { causal: boolean; scale?: number }, s: AttentionShape, fm: FeatureMap): Promise<Tensor> {
  const { tf } = ctx;
  const rs = Math.sqrt(scaleOf(p, s.D));
  const off = s.Tk - s.Tq;
  const plan = biasPlan(bias);
  const fast = plan.kind === 'none' || (plan.kind === 'alibi' && p.causal);
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  const tileBuf = new Float32Array(Math.max(CHUNK * CHUNK, QUERY_BLOCK * KEY_TILE));
  ctx.track(tileBuf.byteLength);
  const finish = (num: tfc.Tensor, den: tfc.Tensor) => (fm.normalize ? tf.divNoNan(num, den) : num);
  // Per K/V head group: its keys through the feature map, and its values.
  const uploadFeatures = (g: number) => {
    const { k: kg, v: vg } = uploadGroup(tf, k, v, g, s);
    const fk = tf.tidy(() => fm.keys(tf, tf.mul(kg, rs) as tfc.Tensor2D, g));
    kg.dispose();
    return { fk, vh: vg };
  };
  try {
    await forEachHead(tf, s, uploadFeatures, async (h, { fk, vh }) => {
      const F = fk.shape[1];
      const fq = tf.tidy(() => fm.queries(tf, tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), rs) as tfc.Tensor2D, h));
      const hb = headBias(bias, h);
      const parts: tfc.Tensor[] = [];
      if (fast && !p.causal) {
        parts.push(tf.tidy(() => finish(tf.matMul(fq, tf.matMul(fk, vh, true, false)), tf.matMul(fq, tf.reshape(tf.sum(fk, 0), [F, 1])))));
      } else if (fast) {
        const gamma = plan.kind === 'alibi' ? Math.exp(-plan.slope(h)) : 1;
        let S: tfc.Tensor = tf.zeros([F, s.Dv]);
        let z: tfc.Tensor = tf.zeros([F, 1]);
        // Adds keys [j0, j1) to the state, decayed to position j1.
        const absorb = (j0: number, j1: number) => {
          const n = j1 - j0;
          const next = tf.tidy(() => {
            let kf: tfc.Tensor = tf.slice(fk, [j0, 0], [n, F]);
            if (gamma !== 1) kf = tf.mul(kf, tf.tensor2d(Float32Array.from({ length: n }, (_, t) => gamma ** (n - t)), [n, 1]));
            const d = gamma ** n;
            return [tf.add(tf.mul(S, d), tf.matMul(kf, tf.slice(vh, [j0, 0], [n, s.Dv]), true, false)), tf.add(tf.mul(z, d), tf.reshape(tf.sum(kf, 0), [F, 1]))];
          });
          tf.dispose([S, z]);
          [S, z] = next as [tfc.Tensor, tfc.Tensor];
        };
        for (let j0 = 0; j0 < off; j0 += CHUNK) absorb(j0, Math.min(off, j0 + CHUNK));
        for (let r0 = 0; r0 < s.Tq; r0 += CHUNK) {
          ctx.checkCancelled();
          const rows = Math.min(CHUNK, s.Tq - r0);
          const a0 = off + r0;
          const view = tileBuf.subarray(0, rows * rows);
          fillBiasTile(hb, true, a0, rows, a0, rows, view);
          parts.push(
            tf.tidy(() => {
              let fqc: tfc.Tensor = tf.slice(fq, [r0, 0], [rows, F]);
              const intra = tf.mul(tf.exp(tf.tensor2d(view, [rows, rows])), tf.matMul(fqc, tf.slice(fk, [a0, 0], [rows, F]), false, true));
              if (gamma !== 1) fqc = tf.mul(fqc, tf.tensor2d(Float32Array.from({ length: rows }, (_, t) => gamma ** t), [rows, 1]));
              const num = tf.add(tf.matMul(fqc, S), tf.matMul(intra, tf.slice(vh, [a0, 0], [rows, s.Dv])));
              return finish(num, tf.add(tf.matMul(fqc, z), tf.sum(intra, 1, true)));
            }),
          );
          absorb(a0, a0 + rows);
        }
        tf.dispose([S, z]);
      } else {
        for (let r0 = 0; r0 < s.Tq; r0 += QUERY_BLOCK) {
          const rows = Math.min(QUERY_BLOCK, s.Tq - r0);
          const fqc = tf.slice(fq, [r0, 0], [rows, F]);
          let num: tfc.Tensor = tf.zeros([rows, s.Dv]);
          let den: tfc.Tensor = tf.zeros([rows, 1]);
          const colEnd = p.causal ? off + r0 + rows : s.Tk;
          for (let c0 = 0; c0 < colEnd; c0 += KEY_TILE) {
            ctx.checkCancelled();
            const cols = Math.min(KEY_TILE, colEnd - c0);
            const view = tileBuf.subarray(0, rows * cols);
            if (!fillBiasTile(hb, p.causal, off + r0, rows, c0, cols, view)) continue;
            const next = tf.tidy(() => {
              const w = tf.mul(tf.exp(tf.tensor2d(view, [rows, cols])), tf.matMul(fqc, tf.slice(fk, [c0, 0], [cols, F]), false, true));
              return [tf.add(num, tf.matMul(w, tf.slice(vh, [c0, 0], [cols, s.Dv]))), tf.add(den, tf.sum(w, 1, true))];
            });
            tf.dispose([num, den]);
            [num, den] = next as [tfc.Tensor, tfc.Tensor];
          }
          parts.push(tf.tidy(() => (fm.normalize ? tf.divNoNan(num, den) : tf.clone(num))));
          tf.dispose([num, den, fqc]);
        }
      }
      const o = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
      tf.dispose([o, ...parts, fq]);
      ctx.progress((h + 1) / s.H);
    });
  } finally {
    fm.dispose?.();
    ctx.release(tileBuf.byteLength);
  }
  return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
}

/**
 * The dense formula in float64 loops: O_i = Σ_j κ(i, j)·e^(bias_ij)·v_j over visible j, divided by
 * Σ_j κ(i, j)·e^(bias_ij) when normalised (0 when that sum is 0). κ(h, i, j) takes absolute positions.
 */
export function kernelReference(
  { v, bias }: { v: Tensor; bias?: AttentionInputs['bias'] },
  p: { causal: boolean },
  s: AttentionShape,
  kappa: (h: number, i: number, j: number) => number,
  normalize: boolean,
): Tensor {
  const { H, Tq, Tk, Dv } = s;
  const out = new Float32Array(H * Tq * Dv);
  const num = new Float64Array(Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      num.fill(0);
      let den = 0;
      for (let j = 0; j < Tk; j++) {
        if ((p.causal && j > i) || !hb.allowed(i, j)) continue;
        const w = kappa(h, i, j) * Math.exp(hb.add(i, j));
        den += w;
        for (let d = 0; d < Dv; d++) num[d] += w * v.data[(g * Tk + j) * Dv + d]!;
      }
      for (let d = 0; d < Dv; d++) out[(h * Tq + r) * Dv + d] = !normalize ? num[d]! : den !== 0 ? num[d]! / den : 0;
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}

/**
 * Cost of featureAttention with F features: linear in T on the fast paths, quadratic when a bias is
 * connected (a mask bias forces the tiled path; ALiBi alone keeps causal runs linear).
 */
export function featureCost(s: AttentionShape, causal: boolean, F: number, featureFlops: number, c?: CostContext): Cost {
  const head = s.Tq * s.D + s.Tk * (s.D + s.Dv) + (s.Tq + s.Tk) * F;
  if (c?.bias) {
    const pairs = causal && s.Tq === s.Tk ? (s.Tq * (s.Tq + 1)) / 2 : s.Tq * s.Tk;
    return {
      flops: featureFlops + 2 * s.H * pairs * (F + s.Dv + 1),
      workspaceBytes: 3 * QUERY_BLOCK * KEY_TILE * 4 + QUERY_BLOCK * (s.Dv + 1) * 8 + head * 4,
      note: 'with a bias: every visible tile (a mask bias has no prefix-sum form)',
    };
  }
  const state = 2 * s.Tk * F * (s.Dv + 1) + 2 * s.Tq * F * (s.Dv + 1);
  const diag = causal ? 2 * s.Tq * Math.min(CHUNK, s.Tq) * (F + s.Dv + 1) : 0;
  return {
    flops: featureFlops + s.H * (state + diag),
    workspaceBytes: (F * (s.Dv + 1) + CHUNK * CHUNK * 2) * 4 + head * 4,
    note: causal ? `state ${F}×${s.Dv} carried over chunks of ${CHUNK}` : `state ${F}×${s.Dv}`,
  };
}
