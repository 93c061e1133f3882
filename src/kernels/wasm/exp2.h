// 2^x in wasm SIMD, shared by the kernels (attention.c, scan.c): x = n + f with n = round(x) and
// f ∈ [−½, ½]; 2^f by its degree-7 Taylor polynomial (truncation ≤ 5.2e-9 relative), 2^n by writing
// the exponent bits. Max relative error 9.1e-8 measured over [−126, 1] (attention.test.ts checks
// ≤ 2e-7); x < −126.5 gives 0 (no denormals); x is not clamped above (a caller whose x can exceed
// 126 clamps it first). Rounding uses the 1.5·2^23 trick, and pmax (one maxps) rather than
// f32x4.max/nearest/trunc_sat, whose NaN and saturation rules cost V8 several instructions each.
#ifndef CTXLAB_EXP2_H
#define CTXLAB_EXP2_H
#include <wasm_simd128.h>

static inline v128_t exp2v(v128_t x) {
  const v128_t magic = wasm_f32x4_splat(12582912.0f); // 1.5·2^23: x + magic rounds x to an integer
  x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-127.0f));   // also maps −∞ to 0
  v128_t t = wasm_f32x4_add(x, magic);
  v128_t f = wasm_f32x4_sub(x, wasm_f32x4_sub(t, magic));
  v128_t p = wasm_f32x4_splat(1.5252733804059841e-05f); // ln2^7/7!
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(1.5403530393381609e-04f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(1.3333558146428443e-03f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(9.6181291076284772e-03f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(5.5504108664821580e-02f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(2.4022650695910071e-01f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(6.9314718055994531e-01f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f), wasm_f32x4_splat(1.0f));
  // bits(t) − bits(magic) = n; (n + 127) << 23 is 2^n.
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - 0x4B400000)), 23);
  return wasm_f32x4_mul(p, e);
}

#endif
