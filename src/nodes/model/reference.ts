// The plain-TypeScript oracle of the Llama forward pass: loops over Float32Arrays, float64
// accumulators, one token at a time through every layer (so a KV-cache policy is exact: token t
// attends to the tokens the policy holds after t arrived). Tests compare every backend against it;
// the benchmark reports the tfjs backends' speed relative to it.
import type { ModelArch } from './config.js';
import { streamingKept } from '../kv-cache/streaming.js';
import { evict } from '../kv-cache/h2o.js';

export type Weights = Record<string, { shape: number[]; data: Float32Array }>;

export interface ReferenceOptions {
  /** Inverse frequencies [D/2] and the cos/sin factor (the RoPE plan of the model's config). */
  inv: ArrayLike<number>;
  attentionFactor?: number;
  eps: number;
  /** StreamingLLM: keys held after t + 1 tokens, RoPE at positions inside the cache. */
  streaming?: { sinkTokens: number; recentTokens: number };
  /** H2O: after each token, keep the recent window and the heavy hitters by attention received (all heads and layers). */
  h2o?: { heavyTokens: number; recentTokens: number };
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  // HF computes the norm in float32: x · rsqrt(mean + ε) · w.
  const r = Math.fround(1 / Math.sqrt(Math.fround(ss / x.length) + eps));
  return x.map((v, i) => Math.fround(v * r) * w[i]!);
}

/** y = W·x (+ b) for HF's [out, in] layout. */
function linear(W: { shape: number[]; data: Float32Array }, x: Float64Array, b?: { data: Float32Array }): Float64Array {
  const [out, inn] = W.shape as [number, number];
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b.data[o]! : 0;
    const row = o * inn;
    for (let i = 0; i < inn; i++) s += W.data[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** rotate_half RoPE of one head vector at position n. */
function rope(x: Float64Array, off: number, D: number, n: number, inv: ArrayLike<number>, a: number): void {
  const half = D / 2;
  for (let i = 0; i < half; i++) {
    const c = Math.cos(n * inv[i]!) * a;
    const s = Math.sin(n * inv[i]!) * a;
    const x1 = x[off + i]!;
    const x2 = x[off + i + half]!;
    x[off + i] = x1 * c - x2 * s;
    x[off + i + half] = x2 * c + x1 * s;
  }
}

/** Logits [T, vocab] of HF LlamaForCausalLM over `ids`. */
export function llamaReference(arch: ModelArch, w: Weights, ids: ArrayLike<number>, o: ReferenceOptions): Float32Array {
  const { numLayers: L, numHeads: H, numKvHeads: Hkv, headDim: D, hiddenSize: hid, vocabSize: V } = arch;
  const T = ids.length;
  const a = o.attentionFactor ?? 1;
  const get = (n: string) => w[n]!;
  const opt = (n: string) => w[n];
  // Pre-RoPE keys and values of every token, per layer: [T][Hkv·D].
  const keys = Array.from({ length: L }, () => [] as Float64Array[]);
  const vals = Array.from({ length: L }, () => [] as Float64Array[]);
  const logits = new Float32Array(T * V);
  const E = get('model.embed_tokens.weight');
  const head = opt('lm_head.weight') && !arch.tieWordEmbeddings ? get('lm_head.weight') : E;
  let h2oHeld: number[] = [];
  const score: number[] = [];
  for (let t = 0; t < T; t++) {
    let h = Float64Array.from(E.data.subarray(ids[t]! * hid, (ids[t]! + 1) * hid));
    if (o.h2o) h2oHeld.push(t);
    const held = o.streaming
      ? Array.from(streamingKept(t + 1, o.streaming.sinkTokens, o.streaming.recentTokens))
      : o.h2o
        ? h2oHeld
        : Array.from({ length: t + 1 }, (_, j) => j);
    // Cache positions (StreamingLLM) or original ones.
    const posOf = (c: number) => (o.streaming ? c : held[c]!);
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}.`;
      const x = rmsNorm(h, get(`${p}input_layernorm.weight`).data, o.eps);
      const q = linear(get(`${p}self_attn.q_proj.weight`), x, opt(`${p}self_attn.q_proj.bias`));
      keys[l]!.push(linear(get(`${p}self_attn.k_proj.weight`), x, opt(`${p}self_attn.k_proj.bias`)));
      vals[l]!.push(linear(get(`${p}self_attn.v_proj.weight`), x, opt(`${p}self_attn.v_proj.bias`)));
      for (let hh = 0; hh < H; hh++) rope(q, hh * D, D, posOf(held.length - 1), o.inv, a);
      const rk = held.map((j, c) => {
        const k = Float64Array.from(keys[l]![j]!);
        for (let g = 0; g < Hkv; g++) rope(k, g * D, D, posOf(c), o.inv, a);
        return k;
      });
      const attn = new Float64Array(H * D);
      for (let hh = 0; hh < H; hh++) {
        const g = Math.floor(hh / (H / Hkv));
        const scores = rk.map((k) => {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[hh * D + d]! * k[g * D + d]!;
          return s / Math.sqrt(D);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((s, v) => s + v, 0);
        held.forEach((j, c) => {
          for (let d = 0; d < D; d++) attn[hh * D + d]! += (e[c]! / z) * vals[l]![j]![g * D + d]!;
          score[j] = (score[j] ?? 0) + e[c]! / z;
        });
      }
      const ao = linear(get(`${p}self_attn.o_proj.weight`), attn, opt(`${p}self_attn.o_proj.bias`));
      h = h.map((v, i) => v + ao[i]!);
      const z = rmsNorm(h, get(`${p}post_attention_layernorm.weight`).data, o.eps);
      const gate = linear(get(`${p}mlp.gate_proj.weight`), z);
      const up = linear(get(`${p}mlp.up_proj.weight`), z);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      const down = linear(get(`${p}mlp.down_proj.weight`), act);
      h = h.map((v, i) => v + down[i]!);
    }
    if (o.h2o && h2oHeld.length > o.h2o.heavyTokens + o.h2o.recentTokens) h2oHeld = evict(h2oHeld, score, o.h2o.recentTokens, o.h2o.heavyTokens);
    const f = rmsNorm(h, get('model.norm.weight').data, o.eps);
    logits.set(linear(head, f), t * V);
  }
  return logits;
}
