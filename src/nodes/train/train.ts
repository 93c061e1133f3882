// The training loop: seeded batches from the training part of the text, AdamW with linear warm-up
// and cosine decay, global-norm gradient clipping, and held-out loss on the end of the text.
import type * as tfc from '@tensorflow/tfjs-core';
import { rng } from '../common/random.js';
import { crossEntropy, disposeTables, forward, positionTables, type LmArch, type PositionTables, type Weights } from './lm.js';

export interface TrainOptions {
  contextLength: number;
  batch: number;
  steps: number;
  lr: number;
  /** Learning rate at the end of the cosine, as a fraction of lr. */
  minLrRatio: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  gradClip: number;
  seed: number;
  /** Fraction of the text, at its end, kept out of training. */
  heldOut: number;
  /** Held-out windows evaluated at the end, at contextLength and at each of evalLengths. */
  evalWindows: number;
  /** Further lengths to evaluate held-out loss at (train short, test long). */
  evalLengths?: number[];
}

export interface StepReport {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  ms: number;
}

export interface TrainResult {
  weights: Weights;
  losses: number[];
  heldOutLoss: number;
  /** Held-out loss at each of evalLengths (null where the model cannot run that length, with why). */
  heldOutLossByLength: Record<string, number | string>;
  tokensPerSecond: number;
  steps: number;
  stoppedEarly?: string;
}

/** lr at step t (0-based): linear warm-up over warmupSteps, then cosine down to minLrRatio·lr. */
export function learningRate(o: Pick<TrainOptions, 'lr' | 'warmupSteps' | 'steps' | 'minLrRatio'>, t: number): number {
  if (t < o.warmupSteps) return (o.lr * (t + 1)) / o.warmupSteps;
  const span = Math.max(1, o.steps - o.warmupSteps);
  const progress = Math.min(1, (t - o.warmupSteps) / span);
  const min = o.lr * o.minLrRatio;
  return min + 0.5 * (o.lr - min) * (1 + Math.cos(Math.PI * progress));
}

/** Splits ids into a training part and a held-out part at the end (by position: no leakage). */
export function splitTokens(ids: Int32Array, heldOut: number): { train: Int32Array; held: Int32Array } {
  const cut = Math.round(ids.length * (1 - heldOut));
  return { train: ids.subarray(0, cut), held: ids.subarray(cut) };
}

/** Seeded batch: B windows of L+1 tokens starting at uniform offsets in `ids`. */
export function sampleBatch(ids: Int32Array, L: number, B: number, seed: number, step: number): { input: Int32Array; labels: Int32Array } {
  const r = rng(seed, 7, step);
  const input = new Int32Array(B * L);
  const labels = new Int32Array(B * L);
  const starts = ids.length - L - 1;
  for (let b = 0; b < B; b++) {
    const s = Math.floor(r() * (starts + 1));
    input.set(ids.subarray(s, s + L), b * L);
    labels.set(ids.subarray(s + 1, s + L + 1), b * L);
  }
  return { input, labels };
}

/** Mean loss over up to `windows` consecutive non-overlapping windows of length L in `ids`. */
export function evaluateLoss(tf: typeof tfc, a: LmArch, w: (n: string) => tfc.Tensor, ids: Int32Array, L: number, windows: number, tables?: PositionTables): number {
  const count = Math.min(windows, Math.floor((ids.length - 1) / L));
  if (count < 1) throw new Error(`held-out text has ${ids.length} tokens: fewer than one window of ${L} + 1`);
  const own = tables ?? positionTables(tf, a, L);
  try {
    let total = 0;
    for (let c = 0; c < count; c++) {
      const loss = tf.tidy(() => {
        const ids2 = tf.tensor2d(ids.subarray(c * L, c * L + L), [1, L], 'int32');
        const labels = tf.tensor1d(ids.subarray(c * L + 1, c * L + L + 1), 'int32');
        return crossEntropy(tf, forward(tf, a, w, ids2, own), labels);
      });
      total += (loss.dataSync() as Float32Array)[0]!;
      loss.dispose();
    }
    return total / count;
  } finally {
    if (!tables) disposeTables(tf, own);
  }
}

export interface TrainHooks {
  onStep?(r: StepReport): void;
  /** Throws to cancel: nothing is kept. */
  checkCancelled?(): void;
  /** A graceful stop: training ends after the current step; the weights of the last finished step are returned. */
  stopRequested?(): boolean;
  now?(): number;
}

/** Trains `init` in place of a copy and returns the final weights with the loss curve. */
export async function train(tf: typeof tfc, a: LmArch, init: Weights, ids: Int32Array, o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  await import('./gradients.js');
  const now = hooks.now ?? (() => performance.now());
  const { train: trainIds, held } = splitTokens(ids, o.heldOut);
  const L = o.contextLength;
  if (trainIds.length < L + 1) throw new Error(`the training part of the text has ${trainIds.length} tokens: fewer than one window of contextLength + 1 = ${L + 1}`);
  if (held.length < L + 1) throw new Error(`the held-out part of the text has ${held.length} tokens: fewer than one window of contextLength + 1 = ${L + 1} (raise heldOut or give more text)`);
  const names = [...init.keys()];
  const vars = new Map(names.map((n) => [n, tf.variable(tf.tensor(init.get(n)!.data, init.get(n)!.shape), true)]));
  const m = new Map(names.map((n) => [n, tf.variable(tf.zerosLike(vars.get(n)!), false)]));
  const v = new Map(names.map((n) => [n, tf.variable(tf.zerosLike(vars.get(n)!), false)]));
  const w = (n: string) => {
    const t = vars.get(n);
    if (!t) throw new Error(`model has no tensor "${n}"`);
    return t;
  };
  const tables = positionTables(tf, a, L);
  const losses: number[] = [];
  let stoppedEarly: string | undefined;
  const started = now();
  let trained = 0;
  try {
    for (let step = 0; step < o.steps; step++) {
      hooks.checkCancelled?.();
      if (trained > 0 && hooks.stopRequested?.()) {
        stoppedEarly = `stopped after step ${trained} of ${o.steps}`;
        break;
      }
      const t0 = now();
      const { input, labels } = sampleBatch(trainIds, L, o.batch, o.seed, step);
      const lr = learningRate(o, step);
      const { loss, gradNorm } = tf.tidy(() => {
        const x = tf.tensor2d(input, [o.batch, L], 'int32');
        const y = tf.tensor1d(labels, 'int32');
        const { value, grads } = tf.variableGrads(() => crossEntropy(tf, forward(tf, a, w, x, tables), y), [...vars.values()]);
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const gradNorm = (norm.dataSync() as Float32Array)[0]!;
        const lossValue = (value.dataSync() as Float32Array)[0]!;
        if (!Number.isFinite(lossValue)) return { loss: lossValue, gradNorm };
        const clip = o.gradClip > 0 && gradNorm > o.gradClip ? o.gradClip / gradNorm : 1;
        const t = step + 1;
        const c1 = 1 - o.beta1 ** t;
        const c2 = 1 - o.beta2 ** t;
        for (const n of names) {
          const g = tf.mul(grads[vars.get(n)!.name]!, clip);
          const mv = tf.add(tf.mul(m.get(n)!, o.beta1), tf.mul(g, 1 - o.beta1));
          const vv = tf.add(tf.mul(v.get(n)!, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
          m.get(n)!.assign(mv);
          v.get(n)!.assign(vv);
          const p = vars.get(n)!;
          // Decoupled weight decay (AdamW), on matrices only: norms' gains are not decayed.
          const decayed = p.rank >= 2 && o.weightDecay > 0 ? tf.mul(p, 1 - lr * o.weightDecay) : p;
          const update = tf.div(tf.div(mv, c1), tf.add(tf.sqrt(tf.div(vv, c2)), o.eps));
          p.assign(tf.sub(decayed, tf.mul(update, lr)));
        }
        return { loss: lossValue, gradNorm };
      });
      if (!Number.isFinite(loss)) {
        const last = losses.length ? losses[losses.length - 1]!.toPrecision(5) : 'none';
        throw new Error(`loss is ${loss} at step ${step + 1}; the last finite loss was ${last} (lower lr, or raise gradClip's strength)`);
      }
      losses.push(loss);
      trained = step + 1;
      hooks.onStep?.({ step: step + 1, loss, lr, gradNorm, ms: now() - t0 });
      await new Promise((r) => setTimeout(r, 0)); // let cancel and progress messages through
    }
  } finally {
    disposeTables(tf, tables);
  }
  const seconds = (now() - started) / 1000;
  const heldOutLoss = evaluateLoss(tf, a, w, held, L, o.evalWindows);
  const heldOutLossByLength: Record<string, number | string> = {};
  for (const len of o.evalLengths ?? []) {
    hooks.checkCancelled?.();
    if (a.position === 'learned' && len > a.maxPositions) heldOutLossByLength[len] = `learned positions end at ${a.maxPositions}`;
    else if (held.length < len + 1) heldOutLossByLength[len] = `held-out text has ${held.length} tokens`;
    else heldOutLossByLength[len] = evaluateLoss(tf, a, w, held, len, o.evalWindows);
  }
  const weights: Weights = new Map(names.map((n) => [n, { shape: init.get(n)!.shape, data: vars.get(n)!.dataSync() as Float32Array }]));
  tf.dispose([...vars.values(), ...m.values(), ...v.values()]);
  return { weights, losses, heldOutLoss, heldOutLossByLength, tokensPerSecond: (trained * o.batch * L) / Math.max(seconds, 1e-9), steps: trained, stoppedEarly };
}
