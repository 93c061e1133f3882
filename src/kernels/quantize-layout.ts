// Where a group quantizer's groups, codes and scales sit: one affine layout shared by the WGSL
// (webgpu/quantize.ts) and wasm (wasm/quantize.ts) kernels, for the quantize node's `group` variant
// and KIVI's cache layouts.

/**
 * F rows of `len` elements, in groups of `groupSize` along the row (the last may be shorter).
 * Row f splits as (a, b) = (⌊f/f1⌋, f mod f1); then, for position j in the row, group g = ⌊j/groupSize⌋
 * and i = j mod groupSize:
 *   element index  a·s1 + b·s2 + j·js
 *   code index     a·c1 + b·c2 + g·c3 + i·c4
 *   group index    a·t1 + b·t2 + g·t3     (its scale, or its (scale, min) pair at 2·index)
 */
export interface GroupLayout {
  rows: number;
  len: number;
  groupSize: number;
  f1: number;
  s1: number;
  s2: number;
  js: number;
  c1: number;
  c2: number;
  c3: number;
  c4: number;
  t1: number;
  t2: number;
  t3: number;
  /** Codes in all (the words are ⌈codes·b/32⌉, rounded to whole words). */
  codes: number;
}

/** The quantize node's groups: along `axis` of a [outer, len, inner] view, codes in element order, scales [F, nG(, 2)]. */
export function axisLayout(outer: number, len: number, inner: number, groupSize: number): GroupLayout {
  const nG = Math.ceil(len / groupSize);
  return {
    rows: outer * inner, len, groupSize,
    f1: inner, s1: len * inner, s2: 1, js: inner,
    c1: len * inner, c2: 1, c3: groupSize * inner, c4: inner,
    t1: inner * nG, t2: nG, t3: 1,
    codes: outer * len * inner,
  };
}

/**
 * KIVI's keys [Hkv, T, D]: per channel, over groups of G tokens of the first `quantized` tokens (a
 * multiple of G); codes and groups numbered head, token group, channel (then token within the group).
 */
export function kiviKeyLayout(Hkv: number, T: number, D: number, quantized: number, G: number): GroupLayout {
  const nTG = quantized / G;
  return {
    rows: Hkv * D, len: quantized, groupSize: G,
    f1: D, s1: T * D, s2: 1, js: D,
    c1: quantized * D, c2: G, c3: D * G, c4: 1,
    t1: nTG * D, t2: 1, t3: D,
    codes: Hkv * quantized * D,
  };
}

/** KIVI's values [Hkv, T, Dv]: per token (the first `quantized`), over groups of G channels; numbered head, token, channel. */
export function kiviValueLayout(Hkv: number, T: number, Dv: number, quantized: number, G: number): GroupLayout {
  const nG = Math.ceil(Dv / G);
  return {
    rows: Hkv * quantized, len: Dv, groupSize: G,
    f1: Math.max(1, quantized), s1: T * Dv, s2: Dv, js: 1,
    c1: quantized * Dv, c2: Dv, c3: G, c4: 1,
    t1: quantized * nG, t2: nG, t3: 1,
    codes: Hkv * quantized * Dv,
  };
}
