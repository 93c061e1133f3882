// Mamba's selective scan (selective_scan_ref semantics) in wasm SIMD (128-bit), one channel at a time:
//   Δ ← softplus(Δ + bias) (optional);  x_l = exp(Δ_l·A) ⊙ x_{l−1} + Δ_l·u_l·B_l;
//   y_l = Σ_n x_l[n]·C_l[n] + D·u_l;  y ← y·silu(z).
// The recurrence over l is sequential (exact, O(L·N) per channel, no log-step overhead); the N state
// lanes are the vector lanes: B and C are packed position-major [G][L][N4] (N4 = N rounded up to 4,
// zero-padded) so that one position's states load as N4/4 vectors. Padded lanes have A = 0 and B = 0,
// so they stay 0 and add nothing to y. A arrives premultiplied by log2(e): exp(Δ·A) = 2^(Δ·A·log2 e).
// Built by scripts/build-wasm.sh; the host side is scan.ts.
#include <stdint.h>
#include <wasm_simd128.h>

#include "exp2.h"

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;
typedef int32_t i32;
#define PTR(T, off) ((T *)(uintptr_t)(off))

// 2^x (exp2.h) with x clamped to ≤ 126 (above saturates: silu's exp(−z) for z ≪ 0, where
// y·silu → 0 anyway); below −126.5 it gives 0.
static inline v128_t exp2c(v128_t x) { return exp2v(wasm_f32x4_pmin(x, wasm_f32x4_splat(126.0f))); }

#define LOG2E 1.4426950408889634f

// torch's softplus (threshold 20): x above 20 passes through; else max(x, 0) + log1p(e^−|x|), with
// log1p(t) = 2·atanh(s), s = t/(2 + t) ∈ [0, ⅓], by its series to s^15 (truncation ≤ 1e-9): exact
// for small t, where log(1 + t) in f32 would lose t.
static inline v128_t softplusv(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t t = exp2c(wasm_f32x4_mul(ax, wasm_f32x4_splat(-LOG2E)));
  v128_t s = wasm_f32x4_div(t, wasm_f32x4_add(t, wasm_f32x4_splat(2.0f)));
  v128_t s2 = wasm_f32x4_mul(s, s);
  v128_t p = wasm_f32x4_splat(1.0f / 15);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 13));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 11));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 9));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 7));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 5));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f / 3));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(1.0f));
  v128_t l1p = wasm_f32x4_mul(wasm_f32x4_mul(p, s), wasm_f32x4_splat(2.0f));
  v128_t sp = wasm_f32x4_add(wasm_f32x4_pmax(x, wasm_f32x4_splat(0.0f)), l1p);
  return wasm_v128_bitselect(x, sp, wasm_f32x4_gt(x, wasm_f32x4_splat(20.0f)));
}

// z·σ(z) = z / (1 + e^−z).
static inline v128_t siluv(v128_t z) {
  v128_t e = exp2c(wasm_f32x4_mul(z, wasm_f32x4_splat(-LOG2E)));
  return wasm_f32x4_div(z, wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
}

// [G][N][L] → [G][L][N4], zero-padded lanes n ≥ N.
EXPORT(pack_bc) void pack_bc(i32 srcOff, i32 dstOff, i32 G, i32 N, i32 L, i32 N4) {
  const f32 *src = PTR(f32, srcOff);
  f32 *dst = PTR(f32, dstOff);
  for (i32 g = 0; g < G; g++)
    for (i32 l = 0; l < L; l++) {
      f32 *row = dst + ((i32)g * L + l) * N4;
      for (i32 n = 0; n < N; n++) row[n] = src[((i32)g * N + n) * L + l];
      for (i32 n = N; n < N4; n++) row[n] = 0;
    }
}

// nv vectors of states (nv a constant at each call: the block lives in registers) over all L:
// x ← 2^(Δ·A·log2 e)·x + Δu·B_l, y_l (+)= Σ x·C_l; the block's last state goes to xOut.
static inline __attribute__((always_inline)) void state_block(const i32 nv, const f32 *A, const f32 *B, const f32 *C, const f32 *dt,
                                                              const f32 *u, f32 *y, i32 L, i32 N4, i32 first, f32 *xOut) {
  v128_t a[4], x[4];
  for (i32 k = 0; k < nv; k++) {
    a[k] = wasm_v128_load(A + 4 * k);
    x[k] = wasm_f32x4_splat(0);
  }
  for (i32 l = 0; l < L; l++) {
    const v128_t dtv = wasm_f32x4_splat(dt[l]), dtu = wasm_f32x4_splat(dt[l] * u[l]);
    const f32 *Bl = B + l * N4, *Cl = C + l * N4;
    v128_t acc = wasm_f32x4_splat(0);
    for (i32 k = 0; k < nv; k++) {
      x[k] = wasm_f32x4_add(wasm_f32x4_mul(exp2c(wasm_f32x4_mul(dtv, a[k])), x[k]), wasm_f32x4_mul(dtu, wasm_v128_load(Bl + 4 * k)));
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(x[k], wasm_v128_load(Cl + 4 * k)));
    }
    f32 s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    y[l] = first ? s : y[l] + s;
  }
  for (i32 k = 0; k < nv; k++) wasm_v128_store(xOut + 4 * k, x[k]);
}

// Byte offsets and sizes of one batch element's scan (scan.ts writes it; keep the order in sync).
typedef struct {
  i32 Dm, L, N, N4, G, softplus;
  i32 u, delta, z, A, B, C, D, bias; // z, D, bias: 0 when absent; A [Dm][N4]·log2 e; B, C packed
  i32 y, state, dt, x;               // y [Dm][L], state [Dm][N], scratch: dt [L4], x [N4]
} Cfg;

// Channels d0..d1−1. L4 = L rounded up to 4: the Δ row is computed 4 positions at a time.
EXPORT(scan_channels) void scan_channels(i32 cfgOff, i32 d0, i32 d1) {
  const Cfg *c = PTR(Cfg, cfgOff);
  const i32 L = c->L, N = c->N, N4 = c->N4, perGroup = c->Dm / c->G;
  f32 *dt = PTR(f32, c->dt), *x = PTR(f32, c->x);
  for (i32 d = d0; d < d1; d++) {
    const f32 *u = PTR(f32, c->u) + d * L, *delta = PTR(f32, c->delta) + d * L;
    const f32 *A = PTR(f32, c->A) + d * N4;
    const i32 g = d / perGroup;
    const f32 *B = PTR(f32, c->B) + g * L * N4, *C = PTR(f32, c->C) + g * L * N4;
    f32 *y = PTR(f32, c->y) + d * L;
    // Δ for the whole row (the tail of a row of L past the last 4 reads/writes the scratch only).
    const v128_t bias = wasm_f32x4_splat(c->bias ? PTR(f32, c->bias)[d] : 0.0f);
    for (i32 l = 0; l < L; l += 4) {
      v128_t v;
      if (l + 4 <= L) v = wasm_v128_load(delta + l);
      else {
        for (i32 k = 0; k < 4; k++) dt[l + k] = l + k < L ? delta[l + k] : 0;
        v = wasm_v128_load(dt + l);
      }
      v = wasm_f32x4_add(v, bias);
      if (c->softplus) v = softplusv(v);
      wasm_v128_store(dt + l, v);
    }
    // States in blocks of up to 16 (4 vectors) held in registers across the whole row: the
    // recurrences of different states are independent, so each block runs over all of L and adds
    // its share of y (the first block writes it).
    for (i32 n0 = 0; n0 < N4; n0 += 16) {
      const i32 nv = N4 - n0 >= 16 ? 4 : (N4 - n0) / 4;
      if (nv == 4) state_block(4, A + n0, B + n0, C + n0, dt, u, y, L, N4, n0 == 0, x + n0);
      else if (nv == 3) state_block(3, A + n0, B + n0, C + n0, dt, u, y, L, N4, n0 == 0, x + n0);
      else if (nv == 2) state_block(2, A + n0, B + n0, C + n0, dt, u, y, L, N4, n0 == 0, x + n0);
      else state_block(1, A + n0, B + n0, C + n0, dt, u, y, L, N4, n0 == 0, x + n0);
    }
    if (c->D) {
      const f32 Dd = PTR(f32, c->D)[d];
      for (i32 l = 0; l < L; l++) y[l] += Dd * u[l];
    }
    if (c->z) {
      const f32 *z = PTR(f32, c->z) + d * L;
      i32 l = 0;
      for (; l + 4 <= L; l += 4) wasm_v128_store(y + l, wasm_f32x4_mul(wasm_v128_load(y + l), siluv(wasm_v128_load(z + l))));
      for (; l < L; l++) y[l] *= wasm_f32x4_extract_lane(siluv(wasm_f32x4_splat(z[l])), 0);
    }
    f32 *st = PTR(f32, c->state) + d * N;
    for (i32 n = 0; n < N; n++) st[n] = x[n];
  }
}
