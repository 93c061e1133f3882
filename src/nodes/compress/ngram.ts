// The default scoring LM: an interpolated Kneser–Ney trigram model over token ids, optionally mixed
// with a cache model of the text being scored (so text that repeats earlier text is predictable, as it
// is to a real LM).
//
// Static part (Chen & Goodman 1998, interpolated KN with one discount per order, D = n1/(n1 + 2·n2), at least 0.05):
//   p3(w|u,v) = max(c(uvw) − D3, 0)/c(uv·) + D3·N1+(uv·)/c(uv·) · p2(w|v)
//   p2(w|v)   = max(N1+(·vw) − D2, 0)/N1+(·v·) + D2·N1+(v·)/N1+(·v·) · p1(w)        (continuation counts)
//   p1(w)     = max(N1+(·w) − D1, 0)/N1+(··) + D1·|{w: N1+(·w) > 0}|/N1+(··) · 1/V   (uniform floor)
// A context never seen in training backs off to the next order with weight 1.
// Cache part (Kuhn & De Mori 1990), Witten–Bell interpolated trigram over the prefix being scored:
//   pc(w|h) = (c(h w) + t(h)·pc(w|h')) / (c(h ·) + t(h)), t(h) = distinct followers of h,
//   and p = (1 − λ)·p_static + λ·pc once the prefix is not empty.
import type { ScoringLM } from './lm.js';

/** Ids must fit in 18 bits (o200k has 200k ranks) so that (context, id) pairs pack into one number. */
const SPAN = 1 << 18;

function discount(countOfCounts: Map<number, number>): number {
  const n1 = countOfCounts.get(1) ?? 0;
  const n2 = countOfCounts.get(2) ?? 0;
  const d = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.75;
  return Math.min(1, Math.max(0.05, d));
}

function bump(m: Map<number, number>, k: number, by = 1): number {
  const n = (m.get(k) ?? 0) + by;
  m.set(k, n);
  return n;
}

export class KneserNeyTrigram {
  private constructor(
    readonly vocabSize: number,
    /** (v, w) → bigram type index. */
    private readonly bigram: Map<number, number>,
    /** (bigram index of (u, v), w) → c(uvw). */
    private readonly trigram: Map<number, number>,
    /** Per bigram (u, v) as a context: c(uv·) and N1+(uv·). */
    private readonly ctxCount: Int32Array,
    private readonly ctxTypes: Int32Array,
    /** Per bigram (v, w): N1+(·vw). */
    private readonly cont2: Int32Array,
    /** Per id v: N1+(·v·) = Σ_w N1+(·vw), and N1+(v·) over those continuations. */
    private readonly cont2Sum: Int32Array,
    private readonly cont2Types: Int32Array,
    /** Per id w: N1+(·w); and N1+(··), the number of bigram types; and |{w: N1+(·w) > 0}|. */
    private readonly cont1: Int32Array,
    private readonly bigramTypes: number,
    private readonly unigramTypes: number,
    readonly discounts: readonly [number, number, number],
    /** Training tokens. */
    readonly size: number,
  ) {}

  static train(ids: Int32Array, vocabSize: number): KneserNeyTrigram {
    if (vocabSize > SPAN) throw new Error(`n-gram LM: vocabulary of ${vocabSize} ids exceeds ${SPAN}`);
    const n = ids.length;
    // Bigram types, and the index of the bigram that ends at each position.
    const bigram = new Map<number, number>();
    const endsAt = new Int32Array(n).fill(-1);
    for (let i = 1; i < n; i++) {
      const key = ids[i - 1]! * SPAN + ids[i]!;
      let b = bigram.get(key);
      if (b === undefined) bigram.set(key, (b = bigram.size));
      endsAt[i] = b;
    }
    const B = bigram.size;
    const ctxCount = new Int32Array(B);
    const ctxTypes = new Int32Array(B);
    const cont2 = new Int32Array(B);
    const trigram = new Map<number, number>();
    for (let i = 2; i < n; i++) {
      const ctx = endsAt[i - 1]!;
      ctxCount[ctx]!++;
      if (bump(trigram, ctx * SPAN + ids[i]!) === 1) {
        ctxTypes[ctx]!++;
        cont2[endsAt[i]!]!++;
      }
    }
    const cont2Sum = new Int32Array(vocabSize);
    const cont2Types = new Int32Array(vocabSize);
    const cont1 = new Int32Array(vocabSize);
    const coc2 = new Map<number, number>();
    for (const [key, b] of bigram) {
      const v = Math.floor(key / SPAN);
      const w = key - v * SPAN;
      cont1[w]!++;
      if (cont2[b]! > 0) {
        cont2Sum[v]! += cont2[b]!;
        cont2Types[v]!++;
        bump(coc2, cont2[b]!);
      }
    }
    const coc3 = new Map<number, number>();
    for (const c of trigram.values()) if (c <= 2) bump(coc3, c);
    const coc1 = new Map<number, number>();
    let unigramTypes = 0;
    for (let w = 0; w < vocabSize; w++) {
      if (cont1[w]! > 0) unigramTypes++;
      if (cont1[w]! <= 2 && cont1[w]! > 0) bump(coc1, cont1[w]!);
    }
    return new KneserNeyTrigram(vocabSize, bigram, trigram, ctxCount, ctxTypes, cont2, cont2Sum, cont2Types, cont1, B,
      unigramTypes, [discount(coc1), discount(coc2), discount(coc3)], n);
  }

  p1(w: number): number {
    const [D1] = this.discounts;
    const N = this.bigramTypes;
    if (N === 0) return 1 / this.vocabSize;
    return Math.max(this.cont1[w]! - D1, 0) / N + ((D1 * this.unigramTypes) / N) / this.vocabSize;
  }

  p2(v: number, w: number): number {
    const den = v >= 0 ? this.cont2Sum[v]! : 0;
    if (den === 0) return this.p1(w);
    const D2 = this.discounts[1];
    const b = this.bigram.get(v * SPAN + w);
    const c = b === undefined ? 0 : this.cont2[b]!;
    return Math.max(c - D2, 0) / den + ((D2 * this.cont2Types[v]!) / den) * this.p1(w);
  }

  /** p(w | u, v); pass −1 for a missing context token (the start of a text). */
  prob(u: number, v: number, w: number): number {
    if (v < 0) return this.p1(w);
    if (u < 0) return this.p2(v, w);
    const ctx = this.bigram.get(u * SPAN + v);
    if (ctx === undefined || this.ctxCount[ctx] === 0) return this.p2(v, w);
    const D3 = this.discounts[2];
    const den = this.ctxCount[ctx]!;
    const c = this.trigram.get(ctx * SPAN + w) ?? 0;
    return Math.max(c - D3, 0) / den + ((D3 * this.ctxTypes[ctx]!) / den) * this.p2(v, w);
  }
}

/** Witten–Bell interpolated trigram counts of the prefix seen so far. */
class PrefixCache {
  private n = 0;
  private readonly c1 = new Map<number, number>();
  /** (v, w) → count; (u, v) → context index, and (context index, w) → count. */
  private readonly c2 = new Map<number, number>();
  private readonly pairIndex = new Map<number, number>();
  private readonly c3 = new Map<number, number>();
  /** Per context (an id, or a pair index): tokens seen after it, and distinct followers. */
  private readonly h1 = new Map<number, number>();
  private readonly t1 = new Map<number, number>();
  private readonly h2 = new Map<number, number>();
  private readonly t2 = new Map<number, number>();

  get size() {
    return this.n;
  }

  prob(u: number, v: number, w: number): number {
    let p = (this.c1.get(w) ?? 0) / this.n;
    if (v < 0) return p;
    const hv = this.h1.get(v) ?? 0;
    if (hv > 0) {
      const t = this.t1.get(v)!;
      p = ((this.c2.get(v * SPAN + w) ?? 0) + t * p) / (hv + t);
    }
    const ctx = u >= 0 ? this.pairIndex.get(u * SPAN + v) : undefined;
    if (ctx !== undefined) {
      const t = this.t2.get(ctx)!;
      p = ((this.c3.get(ctx * SPAN + w) ?? 0) + t * p) / (this.h2.get(ctx)! + t);
    }
    return p;
  }

  push(u: number, v: number, w: number): void {
    this.n++;
    bump(this.c1, w);
    if (v < 0) return;
    bump(this.h1, v);
    if (bump(this.c2, v * SPAN + w) === 1) bump(this.t1, v);
    if (u < 0) return;
    let ctx = this.pairIndex.get(u * SPAN + v);
    if (ctx === undefined) this.pairIndex.set(u * SPAN + v, (ctx = this.pairIndex.size));
    bump(this.h2, ctx);
    if (bump(this.c3, ctx * SPAN + w) === 1) bump(this.t2, ctx);
  }
}

export interface NgramLMOptions {
  /** Weight λ of the cache model of the text being scored; 0 turns it off. */
  cacheWeight: number;
}

export class NgramLM implements ScoringLM {
  constructor(
    readonly name: string,
    readonly model: KneserNeyTrigram,
    readonly opts: NgramLMOptions,
  ) {}

  logProbs(ids: Int32Array, from = 0): Float64Array {
    const out = new Float64Array(ids.length).fill(Number.NaN);
    const lambda = this.opts.cacheWeight;
    const cache = lambda > 0 ? new PrefixCache() : undefined;
    for (let i = 0; i < ids.length; i++) {
      const u = i >= 2 ? ids[i - 2]! : -1;
      const v = i >= 1 ? ids[i - 1]! : -1;
      const w = ids[i]!;
      if (w < 0 || w >= this.model.vocabSize) throw new Error(`${this.name}: token id ${w} is outside the vocabulary (${this.model.vocabSize})`);
      if (i >= from) {
        let p = this.model.prob(u, v, w);
        if (cache && cache.size > 0) p = (1 - lambda) * p + lambda * cache.prob(u, v, w);
        out[i] = Math.log(p);
      }
      cache?.push(u, v, w);
    }
    return out;
  }
}
