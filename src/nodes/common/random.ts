// Seeded, platform-independent randomness (never Math.random): splitmix32 streams keyed by
// (seed, stream id), so generation order does not matter and every backend sees the same values.

export function mix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let z = a;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A stream of uniform numbers in [0, 1) for a seed and any number of integer stream ids. */
export function rng(seed: number, ...stream: number[]): () => number {
  let state = mix32(seed | 0);
  for (const s of stream) state = mix32(state ^ mix32(s | 0));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from a uniform stream. */
export function gaussian(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function fillGaussian(out: Float32Array, seed: number, ...stream: number[]): Float32Array {
  const g = gaussian(rng(seed, ...stream));
  for (let i = 0; i < out.length; i++) out[i] = g();
  return out;
}
