// Group-wise min-max (or absmax) quantize + dequantize with packed codes, in wasm: the same affine
// layout and arithmetic as the WGSL kernel (src/kernels/quantize-layout.ts, webgpu/quantize.ts), one
// group at a time: min/max, the group's scale (and min), then each element's code — OR-ed into its
// word, 32/b codes per u32, low bits first — and its dequantized value. Every step is one f32
// operation in the reference's order (wasm has no fused multiply-add here), so the results equal
// the plain-TS references bit for bit; `wide` does KIVI's reference arithmetic in float64 (kivi.ts). Built by scripts/build-wasm.sh; the host side is quantize.ts.
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;
typedef int32_t i32;
typedef uint32_t u32;
#define PTR(T, off) ((T *)(uintptr_t)(off))

// Field order shared with quantize.ts.
typedef struct {
  u32 rows, len, G, nG, f1, s1, s2, js, c1, c2, c3, c4, t1, t2, t3, bits, per, L, symmetric, halfUp, wide;
  u32 x, out, codes, scales;
} Cfg;

// Half up as Math.round (floor(v + 0.5) would round 0.5 − ε up), or half to even as torch.round.
static inline f32 rnd(f32 v, u32 halfUp) {
  if (!halfUp) return __builtin_rintf(v);
  const f32 r = __builtin_floorf(v);
  return v - r >= 0.5f ? r + 1.0f : r;
}
static inline double rnd64(double v) {
  const double r = __builtin_floor(v);
  return v - r >= 0.5 ? r + 1.0 : r;
}
static inline f32 clampf(f32 v, f32 lo, f32 hi) { return v < lo ? lo : v > hi ? hi : v; }

// Neighbouring groups' codes can share a word (a group need not fill whole words; layouts
// interleave groups) and pool threads run different groups (quantize.ts): a word's bits are OR-ed
// in atomically, once per run of codes that land in the same word. OR commutes, so the words are
// the same whatever the order of the threads.
typedef struct {
  u32 word, bits;
} Pending;
static inline void flush(u32 *codes, Pending *w) {
  if (w->bits) __atomic_fetch_or(codes + w->word, w->bits, __ATOMIC_RELAXED);
  w->bits = 0;
}
static inline void put_code(u32 *codes, Pending *w, u32 ci, u32 per, u32 bits, u32 code) {
  const u32 word = ci / per;
  if (word != w->word) {
    flush(codes, w);
    w->word = word;
  }
  w->bits |= code << ((ci % per) * bits);
}

// Groups g0..g1−1, numbered (a, g, b) with row f = a·f1 + b: the rows of one split that lie side by
// side in memory (b: KIVI's channels, an inner axis) are consecutive for each group, so a run of
// groups reads whole cache lines rather than one value per line (a strided column per group).
EXPORT(quantize_groups) void quantize_groups(i32 cfgOff, u32 g0, u32 g1) {
  const Cfg *p = PTR(Cfg, cfgOff);
  const f32 *x = PTR(f32, p->x);
  f32 *out = PTR(f32, p->out), *scales = PTR(f32, p->scales);
  u32 *codes = PTR(u32, p->codes);
  const f32 Lf = (f32)p->L;
  const u32 sym = p->symmetric;
  Pending w = {0, 0};
  for (u32 gi = g0; gi < g1; gi++) {
    const u32 a = gi / (p->nG * p->f1), r = gi % (p->nG * p->f1), g = r / p->f1, b = r % p->f1;
    const u32 j0 = g * p->G, j1 = j0 + p->G < p->len ? j0 + p->G : p->len;
    const u32 base = a * p->s1 + b * p->s2, js = p->js;
    f32 mn = x[base + j0 * js], mx = sym ? __builtin_fabsf(mn) : mn;
    for (u32 j = j0 + 1; j < j1; j++) {
      const f32 v = x[base + j * js];
      const f32 w = sym ? __builtin_fabsf(v) : v;
      if (w > mx) mx = w;
      if (w < mn) mn = w;
    }
    if (p->wide && !sym) {
      // KIVI's reference arithmetic: hi − lo and the quotient in float64, the scale rounded once to
      // f32; codes from a float64 quotient (Math.round); values c·s + min in float64, rounded once.
      const f32 s = (f32)(((double)mx - (double)mn) / (double)p->L);
      const u32 si = a * p->t1 + b * p->t2 + g * p->t3;
      scales[2 * si] = s;
      scales[2 * si + 1] = mn;
      const u32 cbase = a * p->c1 + b * p->c2 + g * p->c3;
      for (u32 j = j0; j < j1; j++) {
        const u32 e = base + j * js;
        double q = s > 0 ? rnd64(((double)x[e] - (double)mn) / (double)s) : 0.0;
        q = q < 0 ? 0 : q > (double)p->L ? (double)p->L : q;
        out[e] = (f32)(q * (double)s + (double)mn);
        put_code(codes, &w, cbase + (j - j0) * p->c4, p->per, p->bits, (u32)q);
      }
      continue;
    }
    const f32 s = sym ? mx / Lf : (mx - mn) / Lf;
    const f32 safe = s > 0 ? s : 1.0f;
    const u32 si = a * p->t1 + b * p->t2 + g * p->t3;
    if (sym) scales[si] = s;
    else {
      scales[2 * si] = s;
      scales[2 * si + 1] = mn;
    }
    const u32 cbase = a * p->c1 + b * p->c2 + g * p->c3;
    for (u32 j = j0; j < j1; j++) {
      const u32 e = base + j * js;
      const f32 v = x[e];
      u32 code;
      if (sym) {
        const f32 q = clampf(rnd(v / safe, p->halfUp), -Lf, Lf);
        out[e] = q * s;
        code = (u32)(q + Lf + 1.0f);
      } else {
        const f32 q = clampf(rnd((v - mn) / safe, p->halfUp), 0.0f, Lf);
        const f32 qs = q * s;
        out[e] = qs + mn;
        code = (u32)q;
      }
      put_code(codes, &w, cbase + (j - j0) * p->c4, p->per, p->bits, code);
    }
  }
  flush(codes, &w);
}
