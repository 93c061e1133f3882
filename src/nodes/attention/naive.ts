// Naive attention: the full score matrix per head, materialised — O(T²) memory, the baseline.
import { z } from 'zod';
import { fillBiasTile, headBias } from '../common/bias.js';
import { f32 } from '../../engine/tensor.js';
import { commonParams, exactFlops, headView, scaleOf, defineVariant } from './common.js';
import { naiveAttentionReference } from './reference.js';

export const naive = defineVariant(z.object({ variant: z.literal('naive'), ...commonParams }), {
  doc: {
    title: 'Naive (materialised)',
    summary: 'Builds the T×T score matrix of each head, adds bias and mask, softmax, then multiplies by V.',
    formula: 'O = softmax(Q·Kᵀ·scale + B + M)·V, with M = −∞ above the diagonal when causal',
    references: [{ title: 'Attention Is All You Need', year: 2017 }],
  },
  cost: (s, p) => ({
    flops: exactFlops(s, p.causal),
    // One head at a time: the mask buffer, and on the backend the scores, scaled scores, mask and
    // their sum, then softmax's temporaries (about five T×T f32 at once, measured) and the head's q, k, v.
    workspaceBytes: 5.5 * s.Tq * s.Tk * 4 + (s.Tq + 2 * s.Tk) * s.D * 4,
    bytesMoved: 4 * (s.H * s.Tq * s.D * 2 + s.Hkv * s.Tk * (s.D + s.Dv) + s.H * s.Tq * s.Tk * 2),
    note: `scores ${s.Tq}×${s.Tk} f32, their mask and softmax's temporaries per head`,
  }),
  async run(ctx, { q, k, v, bias }, p, s) {
    const { tf } = ctx;
    const scale = scaleOf(p, s.D);
    const out = new Float32Array(s.H * s.Tq * s.Dv);
    const needMask = p.causal || (bias?.terms.length ?? 0) > 0;
    const maskBuf = needMask ? new Float32Array(s.Tq * s.Tk) : undefined;
    if (maskBuf) ctx.track(maskBuf.byteLength);
    for (let h = 0; h < s.H; h++) {
      ctx.checkCancelled();
      const g = Math.floor(h / (s.H / s.Hkv));
      if (maskBuf) fillBiasTile(headBias(bias, h), p.causal, s.Tk - s.Tq, s.Tq, 0, s.Tk, maskBuf);
      // Three stages with a cancel check between them: on the cpu backend one stage of a long head takes a while.
      const scores = tf.tidy(() => {
        const qh = tf.tensor2d(headView(q, h), [s.Tq, s.D]);
        // Kᵀ materialised: tfjs-wasm's matMul is much faster on a pre-transposed operand.
        const kT = tf.transpose(tf.tensor2d(headView(k, g), [s.Tk, s.D]));
        const raw = tf.mul(tf.matMul(qh, kT), scale);
        // The cpu backend keeps the array a tensor is made from: the mask buffer is refilled per head.
        return maskBuf ? tf.add(raw, tf.tensor2d(maskBuf.slice(), [s.Tq, s.Tk])) : raw;
      });
      let probs: typeof scores | undefined;
      let o: typeof scores;
      try {
        ctx.checkCancelled();
        probs = tf.softmax(scores);
        scores.dispose();
        ctx.checkCancelled();
        o = tf.tidy(() => tf.matMul(probs!, tf.tensor2d(headView(v, g), [s.Tk, s.Dv])));
      } finally {
        scores.dispose();
        probs?.dispose();
      }
      ctx.checkCancelled();
      out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
      o.dispose();
      ctx.progress((h + 1) / s.H);
    }
    if (maskBuf) ctx.release(maskBuf.byteLength);
    return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias }),
});
