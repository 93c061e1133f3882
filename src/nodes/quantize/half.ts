// float32 ↔ IEEE binary16 and bfloat16 bit patterns, rounding to nearest, ties to even.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → binary16 bits (1 sign, 5 exponent, 10 mantissa bits): overflow → ±Inf, subnormals kept, NaN stays NaN. */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: m·2^−24 with m = (1.mant)·2^(e−14), i.e. the 24-bit significand shifted right by 14 − e.
    const shift = 14 - e;
    if (shift > 24) return sign;
    const M = mant | 0x800000;
    const m = M >>> shift;
    const rest = M & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (m + (rest > half || (rest === half && m & 1) ? 1 : 0));
  }
  // Normal: drop 13 mantissa bits; a carry out of the mantissa correctly bumps the exponent (up to Inf).
  const h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return h + (rest > 0x1000 || (rest === 0x1000 && h & 1) ? 1 : 0);
}

export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 → bfloat16 bits (the top 16 bits of float32, rounded to nearest even); NaN stays a quiet NaN. */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff; // without the sign, so the rounding add cannot overflow 32 bits
  return sign | ((a + 0x7fff + ((a >>> 16) & 1)) >>> 16);
}

export function fromBf16Bits(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}
