// Linformer: keys and values are projected along the sequence by fixed [k, T] matrices E and F,
// so each query attends to k mixtures of keys instead of T keys: O = softmax(Q(EK)ᵀ·scale)(FV),
// O(T·k·D). The paper learns E and F; here they are fixed: 'gaussian' — seeded entries N(0, 1/k),
// the projection of the paper's analysis; 'mean' — averages of T/k consecutive positions, the
// pooling the paper lists among its projection choices.
// The paper is non-causal. Here causal (and any bias) restricts each query's mixtures to the keys
// it may see, weighted by e^(bias): K'_i = Σ_j e^(b_ij)·E[:, j]k_jᵀ over visible j (likewise V'_i).
// Causal without bias runs in chunks: earlier keys through the prefix sums E[:, <a]K[<a] and
// F[:, <a]V[<a], the chunk's own keys through masked C×C tiles; a bias makes every visible tile count.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { gaussian, rng } from '../common/random.js';
import { biasPlan, commonParams, forEachHead, groupOf, headView, scaleOf, uploadGroup, type AttentionInputs, type AttentionVariant, defineVariant } from './common.js';
import type { AttentionShape } from './reference.js';

type P = z.output<typeof params>;

/**
 * E and F, [k, T] row-major. 'gaussian': entries N(0, 1/k) from seeded streams; 'mean': row m
 * averages positions [⌊m·T/k⌋, ⌊(m+1)·T/k⌋) (E = F).
 */
export function linformerProjections(k: number, T: number, seed: number, projection: P['projection'] = 'gaussian') {
  if (projection === 'mean') {
    const E = new Float32Array(k * T);
    for (let m = 0; m < k; m++) {
      const [a, b] = [Math.floor((m * T) / k), Math.floor(((m + 1) * T) / k)];
      for (let t = a; t < b; t++) E[m * T + t] = 1 / (b - a);
    }
    return { E, F: E };
  }
  const make = (stream: number) => {
    const g = gaussian(rng(seed, 0x11f0, stream));
    return Float32Array.from({ length: k * T }, () => g() / Math.sqrt(k));
  };
  return { E: make(0), F: make(1) };
}

const CHUNK = 64;
const KEY_TILE = 256;

async function run(ctx: Parameters<AttentionVariant['run']>[0], { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor> {
  const { tf } = ctx;
  const kp = p.projectedLength;
  const scale = scaleOf(p, s.D);
  const off = s.Tk - s.Tq;
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  const { E: Ed, F: Fd } = linformerProjections(kp, s.Tk, p.seed, p.projection);
  const general = biasPlan(bias).kind !== 'none';
  const tileBuf = new Float32Array(CHUNK * KEY_TILE);
  ctx.track(Ed.byteLength * 2 + tileBuf.byteLength);
  const [E, F] = [tf.tensor2d(Ed, [kp, s.Tk]), tf.tensor2d(Fd, [kp, s.Tk])];
  try {
    await forEachHead(tf, s, (g) => uploadGroup(tf, k, v, g, s), async (h, { k: kh, v: vh }) => {
      const hb = headBias(bias, h);
      const qh = tf.tidy(() => tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), scale) as tfc.Tensor2D);
      const parts: tfc.Tensor[] = [];
      if (!p.causal && !general) {
        // The paper's form: project once, attend to k mixtures.
        parts.push(tf.tidy(() => tf.matMul(tf.softmax(tf.matMul(qh, tf.matMul(E, kh), false, true)), tf.matMul(F, vh))));
      } else {
        let PK: tfc.Tensor = tf.zeros([kp, s.D]);
        let PV: tfc.Tensor = tf.zeros([kp, s.Dv]);
        const absorb = (j0: number, j1: number) => {
          const next = tf.tidy(() => [
            tf.add(PK, tf.matMul(tf.slice(E, [0, j0], [kp, j1 - j0]), tf.slice(kh, [j0, 0], [j1 - j0, s.D]))),
            tf.add(PV, tf.matMul(tf.slice(F, [0, j0], [kp, j1 - j0]), tf.slice(vh, [j0, 0], [j1 - j0, s.Dv]))),
          ]);
          tf.dispose([PK, PV]);
          [PK, PV] = next as [tfc.Tensor, tfc.Tensor];
        };
        if (!general) for (let j0 = 0; j0 < off; j0 += CHUNK) absorb(j0, Math.min(off, j0 + CHUNK));
        for (let r0 = 0; r0 < s.Tq; r0 += CHUNK) {
          ctx.checkCancelled();
          const rows = Math.min(CHUNK, s.Tq - r0);
          const a0 = off + r0;
          // Key tiles computed with their weights e^(bias) (0 where masked): the chunk's own keys
          // when the rest is in the prefix sums; every visible tile with a bias.
          const tiles: { c0: number; cols: number; W: tfc.Tensor2D }[] = [];
          const colStart = general ? 0 : a0;
          const colEnd = p.causal ? a0 + rows : s.Tk;
          for (let c0 = colStart; c0 < colEnd; c0 += KEY_TILE) {
            const cols = Math.min(KEY_TILE, colEnd - c0);
            const view = tileBuf.subarray(0, rows * cols);
            if (!fillBiasTile(hb, p.causal, a0, rows, c0, cols, view)) continue;
            tiles.push({ c0, cols, W: tf.tidy(() => tf.exp(tf.tensor2d(view, [rows, cols]))) });
          }
          parts.push(
            tf.tidy(() => {
              const qc = tf.slice(qh, [r0, 0], [rows, s.D]);
              // scores_i = Σ_j W_ij (q_i·k_j) E[:, j]ᵀ (+ q_i·PKᵀ for the prefix).
              let sc: tfc.Tensor = tf.matMul(qc, PK, false, true);
              for (const t of tiles) {
                const qk = tf.mul(t.W, tf.matMul(qc, tf.slice(kh, [t.c0, 0], [t.cols, s.D]), false, true));
                sc = tf.add(sc, tf.matMul(qk, tf.slice(E, [0, t.c0], [kp, t.cols]), false, true));
              }
              const A = tf.softmax(sc);
              // out_i = Σ_j W_ij (a_i·F[:, j]) v_j (+ a_i·PV).
              let o: tfc.Tensor = tf.matMul(A, PV);
              for (const t of tiles) {
                const af = tf.mul(t.W, tf.matMul(A, tf.slice(F, [0, t.c0], [kp, t.cols])));
                o = tf.add(o, tf.matMul(af, tf.slice(vh, [t.c0, 0], [t.cols, s.Dv])));
              }
              return o;
            }),
          );
          tf.dispose(tiles.map((t) => t.W));
          if (!general) absorb(a0, a0 + rows);
        }
        tf.dispose([PK, PV]);
      }
      const o = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
      tf.dispose([o, ...parts, qh]);
      ctx.progress((h + 1) / s.H);
    });
  } finally {
    tf.dispose([E, F]);
    ctx.release(Ed.byteLength * 2 + tileBuf.byteLength);
  }
  return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
}

/** Per query: its own projected keys/values over visible keys, softmax over the k mixtures (float64). */
function reference({ q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Tensor {
  const { H, Tq, Tk, D, Dv } = s;
  const kp = p.projectedLength;
  const scale = scaleOf(p, D);
  const { E, F } = linformerProjections(kp, Tk, p.seed, p.projection);
  const out = new Float32Array(H * Tq * Dv);
  const Kp = new Float64Array(kp * D);
  const Vp = new Float64Array(kp * Dv);
  const a = new Float64Array(kp);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      Kp.fill(0);
      Vp.fill(0);
      for (let j = 0; j < Tk; j++) {
        if ((p.causal && j > i) || !hb.allowed(i, j)) continue;
        const w = Math.exp(hb.add(i, j));
        for (let m = 0; m < kp; m++) {
          for (let d = 0; d < D; d++) Kp[m * D + d] += w * E[m * Tk + j]! * k.data[(g * Tk + j) * D + d]!;
          for (let d = 0; d < Dv; d++) Vp[m * Dv + d] += w * F[m * Tk + j]! * v.data[(g * Tk + j) * Dv + d]!;
        }
      }
      let max = -Infinity;
      for (let m = 0; m < kp; m++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d]! * Kp[m * D + d]!;
        a[m] = dot * scale;
        max = Math.max(max, a[m]!);
      }
      let sum = 0;
      for (let m = 0; m < kp; m++) sum += a[m] = Math.exp(a[m]! - max);
      for (let d = 0; d < Dv; d++) {
        let o = 0;
        for (let m = 0; m < kp; m++) o += (a[m]! / sum) * Vp[m * Dv + d]!;
        out[(h * Tq + r) * Dv + d] = o;
      }
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}

const params = z.object({
  variant: z.literal('linformer'),
  ...commonParams,
  projectedLength: z.number().int().min(1).max(65536).default(256).describe('k: the length K and V are projected to'),
  projection: z.enum(['gaussian', 'mean']).default('gaussian').describe("E, F: seeded N(0, 1/k) entries, or means of T/k consecutive positions"),
  seed: z.number().int().default(0).describe("seed of the 'gaussian' projections"),
});

export const linformer = defineVariant(params, {
  doc: {
    title: 'Linformer (low-rank projection)',
    summary: 'Projects K and V along the sequence to k rows with fixed random matrices E, F [k, T]: attention over k mixtures, O(T·k·D). Causal via per-query prefix mixtures. The probe shows exact attention\'s map.',
    formula: 'O = softmax(Q(EK)ᵀ·scale)·(FV), E, F ∈ ℝ^(k×T): entries N(0, 1/k), or segment means',
    references: [{ title: 'Linformer: Self-Attention with Linear Complexity', year: 2020 }],
  },
  cost(s, p, c) {
    const kp = p.projectedLength;
    const head = (s.Tq * s.D + s.Tk * (s.D + s.Dv)) * 4 + 2 * kp * s.Tk * 4;
    if (c?.bias) {
      const pairs = p.causal && s.Tq === s.Tk ? (s.Tq * (s.Tq + 1)) / 2 : s.Tq * s.Tk;
      return {
        flops: 2 * s.H * pairs * (s.D + 2 * kp + s.Dv + 1),
        workspaceBytes: head + CHUNK * KEY_TILE * 4 * 4 + CHUNK * kp * 8,
        note: 'with a bias: every visible tile is mixed per query',
      };
    }
    const attend = 2 * s.H * s.Tq * kp * (s.D + s.Dv);
    const project = 2 * (p.causal ? s.H : s.Hkv) * kp * s.Tk * (s.D + s.Dv);
    const diag = p.causal ? 2 * s.H * s.Tq * Math.min(CHUNK, s.Tq) * (s.D + 2 * kp + s.Dv) : 0;
    return {
      flops: attend + project + diag,
      workspaceBytes: head + kp * (s.D + s.Dv) * 4 + Math.min(CHUNK, s.Tq) * (kp + CHUNK) * 8 + (p.causal ? 0 : s.Tq * kp * 8),
      note: `k = ${kp} projected keys and values`,
    };
  },
  implicitMap: true,
  run,
  reference,
});
