// The optional `probe` output: an attention map average-pooled to at most 256×256 per head, for
// heat-map views. Computed tile by tile (two passes for softmax: row log-sum-exp, then the pooled
// probabilities), so it never holds T×T either; it costs about two extra QKᵀ passes, only when the
// port is connected. Pooling is a matMul with a small averaging matrix over each tile's rows; the
// columns are binned on the host after one download per query block.
import type * as tfc from '@tensorflow/tfjs-core';
import { headBias } from '../common/bias.js';
import type { RunContext } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { forEachHead, groupOf, headView, scaleOf } from './common.js';
import type { AttentionShape } from './reference.js';
import { densePattern, fillPatternTile, keyChunks, patternRowScores, queryBlocks, takeRows, unmaskedTile, type SparsePattern } from './sparse.js';

export const PROBE_MAX = 256;

/** Which map the probe shows. */
export interface ProbeSpec {
  /** 'softmax': softmax over the visible keys; 'relu': relu(score) / number of visible keys. */
  activation: 'softmax' | 'relu';
  /** Which keys are visible, with multiplicities (dense when absent). */
  pattern?: SparsePattern;
}

export const exactProbe: ProbeSpec = { activation: 'softmax' };

export const probeShape = (s: Pick<AttentionShape, 'H' | 'Tq' | 'Tk'>): [number, number, number] => [
  s.H,
  Math.min(PROBE_MAX, s.Tq),
  Math.min(PROBE_MAX, s.Tk),
];

/** Bin of each of T positions among P bins (bin b holds t with ⌊t·P/T⌋ = b), and each bin's size. */
function bins(T: number, P: number) {
  const of = new Int32Array(T);
  const count = new Int32Array(P);
  for (let t = 0; t < T; t++) count[(of[t] = Math.floor((t * P) / T))]!++;
  return { of, count };
}

const QUERY_BLOCK = 64;
const KEY_CHUNK = 256;

export async function attentionProbe(
  ctx: RunContext,
  { q, k, bias }: { q: Tensor; k: Tensor; bias?: BiasValue },
  p: { causal: boolean; scale?: number },
  s: AttentionShape,
  spec: ProbeSpec,
): Promise<Tensor> {
  const { tf } = ctx;
  const [, Pq, Pk] = probeShape(s);
  const rb = bins(s.Tq, Pq);
  const cb = bins(s.Tk, Pk);
  const probe = new Float32Array(s.H * Pq * Pk);
  const pattern = spec.pattern ?? densePattern(s.Tk);
  const scale = scaleOf(p, s.D);
  const tile = new Float32Array(QUERY_BLOCK * KEY_CHUNK);
  const hasBias = (bias?.terms.length ?? 0) > 0;
  await forEachHead(tf, s, (g) => tf.tensor2d(headView(k, g), [s.Tk, s.D]), async (h, kh) => {
    const hb = headBias(bias, h);
    const qh = tf.tidy(() => tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), scale) as tfc.Tensor2D);
    for (const { r0, rows, i0 } of queryBlocks(s, QUERY_BLOCK)) {
      ctx.checkCancelled();
      const qt = tf.slice(qh, [r0, 0], [rows, s.D]);
      // The visible tiles of this block, with their masks (kept for both passes).
      const tiles: { cols: Int32Array; mask?: tfc.Tensor2D }[] = [];
      const count = new Float32Array(rows);
      for (const cols of keyChunks(pattern, h, i0, i0 + rows, p.causal, s.Tk, KEY_CHUNK)) {
        if (unmaskedTile(pattern, hasBias, p.causal, h, i0, rows, cols)) {
          count.forEach((c, r) => (count[r] = c + cols.length));
          tiles.push({ cols });
          continue;
        }
        const view = tile.subarray(0, rows * cols.length);
        if (!fillPatternTile(hb, p.causal, pattern, h, i0, rows, cols, view)) continue;
        if (spec.activation === 'relu') for (let e = 0; e < view.length; e++) if (view[e] !== -Infinity) count[Math.floor(e / cols.length)]!++;
        // A copy: the cpu backend keeps the array it is given, and the buffer is refilled.
        tiles.push({ cols, mask: tf.tensor2d(view.slice(), [rows, cols.length]) });
      }
      const scores = (t: (typeof tiles)[number]) => {
        const sc = tf.matMul(qt, takeRows(tf, kh, t.cols), false, true);
        return t.mask ? tf.add(sc, t.mask) : sc;
      };
      // Per-row normaliser: softmax subtracts log Σ e^s; relu divides by the visible-key count.
      let rowTerm: tfc.Tensor;
      if (spec.activation === 'softmax') {
        let m: tfc.Tensor = tf.fill([rows, 1], -1e30);
        let l: tfc.Tensor = tf.zeros([rows, 1]);
        for (const t of tiles) {
          const next = tf.tidy(() => {
            const sc = scores(t);
            const mNew = tf.maximum(m, tf.max(sc, 1, true));
            return [mNew, tf.add(tf.mul(l, tf.exp(tf.sub(m, mNew))), tf.sum(tf.exp(tf.sub(sc, mNew)), 1, true))];
          });
          tf.dispose([m, l]);
          [m, l] = next as [tfc.Tensor, tfc.Tensor];
        }
        rowTerm = tf.tidy(() => tf.add(m, tf.log(tf.maximum(l, 1e-30))));
        tf.dispose([m, l]);
      } else {
        rowTerm = tf.tensor2d(count.map((c) => (c > 0 ? 1 / c : 0)), [rows, 1]);
      }
      // Row pooling: bins a0..a1 overlap this block; R[a − a0][r] = 1 / |bin a|.
      const a0 = rb.of[r0]!;
      const nbr = rb.of[r0 + rows - 1]! - a0 + 1;
      const R = new Float32Array(nbr * rows);
      for (let r = 0; r < rows; r++) R[(rb.of[r0 + r]! - a0) * rows + r] = 1 / rb.count[rb.of[r0 + r]!]!;
      if (tiles.length) {
        const pooled = tf.tidy(() => {
          const Rt = tf.tensor2d(R, [nbr, rows]);
          const parts = tiles.map((t) => {
            const sc = scores(t);
            const w = spec.activation === 'softmax' ? tf.exp(tf.sub(sc, rowTerm)) : tf.mul(tf.relu(sc), rowTerm);
            return tf.matMul(Rt, w);
          });
          return parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
        });
        const data = (await pooled.data()) as Float32Array;
        pooled.dispose();
        const width = data.length / nbr;
        let c0 = 0;
        for (const t of tiles) {
          for (let a = 0; a < nbr; a++) {
            const row = (h * Pq + a0 + a) * Pk;
            for (let c = 0; c < t.cols.length; c++) {
              const b = cb.of[t.cols[c]!]!;
              probe[row + b]! += data[a * width + c0 + c]! / cb.count[b]!;
            }
          }
          c0 += t.cols.length;
        }
      }
      tf.dispose([rowTerm, qt, ...tiles.flatMap((t) => (t.mask ? [t.mask] : []))]);
    }
    qh.dispose();
  });
  return f32([s.H, Pq, Pk], probe, ['H', 'P', 'P']);
}

/** The probe in float64 loops: each row's weights from the dense formula, then averaged into bins. */
export function attentionProbeReference(
  { q, k, bias }: { q: Tensor; k: Tensor; bias?: BiasValue },
  p: { causal: boolean; scale?: number },
  s: AttentionShape,
  spec: ProbeSpec,
): Tensor {
  const { H, Tq, Tk, D } = s;
  const [, Pq, Pk] = probeShape(s);
  const rb = bins(Tq, Pq);
  const cb = bins(Tk, Pk);
  const pattern = spec.pattern ?? densePattern(Tk);
  const scale = scaleOf(p, D);
  const probe = new Float64Array(H * Pq * Pk);
  const sc = new Float64Array(Tk);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const { max, visible } = patternRowScores(q, k, s, h, g, r, scale, hb, pattern, p.causal, sc);
      let sum = 0;
      for (let j = 0; j < Tk; j++) {
        const x = sc[j]!;
        sc[j] = x === -Infinity ? 0 : spec.activation === 'softmax' ? Math.exp(x - max) : Math.max(0, x);
        sum += sc[j]!;
      }
      const norm = spec.activation === 'softmax' ? sum : visible;
      if (!(norm > 0)) continue;
      const a = rb.of[r]!;
      for (let j = 0; j < Tk; j++) {
        const b = cb.of[j]!;
        probe[(h * Pq + a) * Pk + b]! += sc[j]! / norm / (rb.count[a]! * cb.count[b]!);
      }
    }
  }
  return f32([H, Pq, Pk], Float32Array.from(probe), ['H', 'P', 'P']);
}
