// Batched f32 matrix product in wasm SIMD (128-bit): C[s] = A[s]·B[s] for s < batch, row-major,
// A [M][K], B [K][N], C [M][N]; a batch stride of 0 broadcasts that operand. tfjs-wasm runs batched
// products (attention's Q·Kᵀ and P·V over batch × heads) several times slower than single ones;
// this is the register-blocked kernel for them. Built by scripts/build-wasm.sh; see matmul.ts.
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;
typedef int32_t i32;
#define PTR(T, off) ((T *)(uintptr_t)(off))

// Rows i0..i0+3 × columns j..j+7: eight accumulators (4 rows × 2 vectors), one pass over K.
static inline void block4x8(const f32 *a, const f32 *b, f32 *c, i32 K, i32 N, i32 i0, i32 j) {
  const f32 *a0 = a + i0 * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const f32 *bk = b + j;
  for (i32 k = 0; k < K; k++, bk += N) {
    v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
    v128_t x0 = wasm_v128_load32_splat(a0 + k), x1 = wasm_v128_load32_splat(a1 + k);
    v128_t x2 = wasm_v128_load32_splat(a2 + k), x3 = wasm_v128_load32_splat(a3 + k);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x0, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x1, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x2, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x3, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x3, b1));
  }
  f32 *r = c + i0 * N + j;
  wasm_v128_store(r, c00); wasm_v128_store(r + 4, c01); r += N;
  wasm_v128_store(r, c10); wasm_v128_store(r + 4, c11); r += N;
  wasm_v128_store(r, c20); wasm_v128_store(r + 4, c21); r += N;
  wasm_v128_store(r, c30); wasm_v128_store(r + 4, c31);
}

// One row × columns j..j+3 (the rows left over after blocks of 4).
static inline void block1x4(const f32 *a, const f32 *b, f32 *c, i32 K, i32 N, i32 i, i32 j) {
  v128_t acc = wasm_f32x4_splat(0);
  const f32 *ai = a + i * K, *bk = b + j;
  for (i32 k = 0; k < K; k++, bk += N) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load32_splat(ai + k), wasm_v128_load(bk)));
  wasm_v128_store(c + i * N + j, acc);
}

static inline f32 dot1(const f32 *a, const f32 *b, i32 K, i32 N, i32 i, i32 j) {
  f32 s = 0;
  for (i32 k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
  return s;
}

// Strides are in elements. Blocks of 8 columns in strips of 4 rows keep B's strip in cache across rows.
EXPORT(bmm) void bmm(i32 batch, i32 M, i32 K, i32 N, i32 aOff, i32 bOff, i32 cOff, i32 aStride, i32 bStride) {
  const i32 M4 = M & ~3, N8 = N & ~7, N4 = N & ~3;
  for (i32 s = 0; s < batch; s++) {
    const f32 *a = PTR(f32, aOff) + s * aStride, *b = PTR(f32, bOff) + s * bStride;
    f32 *c = PTR(f32, cOff) + s * M * N;
    for (i32 j = 0; j < N8; j += 8)
      for (i32 i = 0; i < M4; i += 4) block4x8(a, b, c, K, N, i, j);
    for (i32 i = M4; i < M; i++)
      for (i32 j = 0; j < N4; j += 4) block1x4(a, b, c, K, N, i, j);
    // Columns past the last full block of 8 (rows < M4), then past the last 4 (every row).
    for (i32 i = 0; i < M4; i++)
      for (i32 j = N8; j < N; j++) c[i * N + j] = dot1(a, b, K, N, i, j);
    for (i32 i = M4; i < M; i++)
      for (i32 j = N4; j < N; j++) c[i * N + j] = dot1(a, b, K, N, i, j);
  }
}
