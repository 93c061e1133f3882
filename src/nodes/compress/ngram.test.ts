import { describe, expect, it } from 'vitest';
import { KneserNeyTrigram, NgramLM } from './ngram.js';

// A toy corpus over a vocabulary of 5 ids. Expected values come from a separate Python implementation
// of the formulas in ngram.ts (interpolated Kneser–Ney, D = n1/(n1 + 2·n2) per order): here
// D1 = 1/3, D2 = 5/13, D3 = 5/6.
const TOY = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 3, 4, 1, 2, 0, 4, 1, 3, 0, 1, 2, 4]);

describe('Kneser–Ney trigram', () => {
  const m = KneserNeyTrigram.train(TOY, 5);

  it('estimates the discounts from counts of counts', () => {
    expect(m.discounts[0]).toBeCloseTo(1 / 3, 12);
    expect(m.discounts[1]).toBeCloseTo(5 / 13, 12);
    expect(m.discounts[2]).toBeCloseTo(5 / 6, 12);
  });

  it('matches hand-derived probabilities', () => {
    const cases: [number, number, number, number][] = [
      [0, 1, 2, 0.7188390313390313],
      [0, 1, 3, 0.21883903133903132],
      [0, 1, 4, 0.026709401709401708],
      [1, 2, 4, 0.2232905982905983],
      [4, 1, 3, 0.43767806267806264],
      [3, 0, 2, 0.02374169040835708], // context (3, 0) seen once
      [2, 4, 0, 0.04273504273504274], // context (2, 4) never followed in training: bigram back-off
    ];
    for (const [u, v, w, p] of cases) expect(m.prob(u, v, w), `p(${w}|${u},${v})`).toBeCloseTo(p, 12);
    expect(m.p2(0, 4)).toBeCloseTo(0.2905982905982906, 12);
    expect(m.p1(3)).toBeCloseTo(1 / 9, 12);
  });

  it('is a distribution for every context, seen or not', () => {
    for (const [u, v] of [[0, 1], [1, 2], [4, 4], [-1, 3], [-1, -1], [2, 4]])
      expect([0, 1, 2, 3, 4].reduce((s, w) => s + m.prob(u!, v!, w), 0)).toBeCloseTo(1, 12);
  });

  it('gives unseen ids a small positive probability (uniform floor)', () => {
    const big = KneserNeyTrigram.train(TOY, 1000);
    expect(big.prob(0, 1, 999)).toBeGreaterThan(0);
    expect(big.prob(0, 1, 999)).toBeLessThan(big.prob(0, 1, 2) / 100);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => new NgramLM('t', m, { cacheWeight: 0 }).logProbs(Int32Array.from([0, 7]))).toThrow(/token id 7 is outside/);
  });
});

describe('cache model of the prompt', () => {
  const m = KneserNeyTrigram.train(TOY, 5);
  const stat = new NgramLM('static', m, { cacheWeight: 0 });
  const cached = new NgramLM('cached', m, { cacheWeight: 0.3 });

  it('is off for the first token and leaves a static model unchanged', () => {
    const ids = Int32Array.from([3, 3, 4, 4, 3]);
    const a = stat.logProbs(ids);
    expect(a[2]).toBeCloseTo(Math.log(m.prob(3, 3, 4)), 12);
    expect(cached.logProbs(ids)[0]).toBeCloseTo(a[0]!, 12);
  });

  it('makes a repeated passage more predictable the second time', () => {
    const once = [3, 4, 4, 3, 0, 4];
    const ids = Int32Array.from([...once, ...once]);
    const a = cached.logProbs(ids);
    const firstTime = a.slice(2, 6).reduce((s, x) => s + x, 0);
    const secondTime = a.slice(8, 12).reduce((s, x) => s + x, 0);
    expect(secondTime).toBeGreaterThan(firstTime + 1);
  });

  it('mixes two distributions into a distribution', () => {
    // p(w | prefix) over the whole vocabulary sums to 1 after any prefix.
    const prefix = [3, 4, 4, 3, 0, 4, 3];
    let sum = 0;
    for (let w = 0; w < 5; w++) sum += Math.exp(cached.logProbs(Int32Array.from([...prefix, w]), prefix.length)[prefix.length]!);
    expect(sum).toBeCloseTo(1, 12);
  });

  it('scores only from `from` on; earlier tokens are context', () => {
    const ids = Int32Array.from([0, 1, 2, 0, 1]);
    const a = cached.logProbs(ids, 3);
    expect(Number.isNaN(a[2]!)).toBe(true);
    expect(a[4]).toBeCloseTo(cached.logProbs(ids)[4]!, 12);
  });
});
