// One fused, block-sparse attention kernel in wasm SIMD (128-bit), FlexAttention-style: a job is a
// block of query rows of one head plus the list of key tiles it visits; each tile is either full
// (no mask) or partial (an in-tile mask/bias from a few parametrised rules). Online softmax over the
// tiles, so memory is O(rows·Dv) per job. Built by scripts/build-wasm.sh; see attention.ts for the
// layouts the host writes.
//
// Scores are in the log2 domain: the host pre-scales Q by scale·log2(e), so e^(s−m) = 2^(s'−m') and
// the kernel needs only exp2. The kernel never touches the shadow stack (every buffer is passed in),
// so many instances can share one memory without per-thread stacks.
#include <stdint.h>
#include <wasm_simd128.h>

#include "exp2.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define NEG_INF (-__builtin_inff())

typedef float f32;
typedef int32_t i32;

// A band rule: a pair (i, j) of absolute positions passes when j < gcol, i < grow, or
// −hi ≤ i − j ≤ lo. Causal is {0, 0, ∞, 0}; a causal window w is {0, 0, w−1, 0}; StreamingLLM is
// {sinks, 0, recent−1, 0}; Longformer's global tokens g are {g, g, ...}.
typedef struct { i32 gcol, grow, lo, hi; } Band;
// An interval rule: passes when [qa[r], qb[r]] and [ka[j], kb[j]] intersect (segment ids: qa = qb =
// segment, a "sees everything" row spans all ids; windows: first/last window holding the token).
// Fields are byte offsets of i32 arrays indexed by query row / key index.
typedef struct { i32 qa, qb, ka, kb; } Interval;
// A rank-1 additive term qw[r]·kw[j] (log2 units), e.g. a segment cross-logit.
typedef struct { i32 qw, kw; } Rank1;

typedef struct {
  i32 D, Dv, Bk, nTiles;   // head dims (Dv a multiple of 8), keys per tile (multiple of 8), tiles per kv head
  i32 q, kt, v, o, ml;     // Q [H][Tq][D]; K tiles [Hkv][nTiles][D][Bk]; V [Hkv][nTiles·Bk][Dv]; O rows [..][Dv]; (m, ℓ) per O row
  i32 Tq, qpos, kpos;      // query rows per head; absolute position of each query row / key (−1: padding)
  i32 slopes;              // ALiBi slope per head (or per query row, see slopeByRow), log2 units (0: none): adds −m·(i − j)
  i32 nBand, band, nInterval, interval, nRank1, rank1;
  i32 group;               // query heads per kv head
  i32 relu;                // score mode: 0 softmax, 1 ReLU attention (relu(s)·v summed, / visible keys)
  i32 slopeByRow;          // 1: slopes are per query row, one per job (its first row's)
} Config;

// A job: rows r0..r0+rows−1 of head h, visiting nTiles tiles listed at tiles[tile0..] (t·4 + kind),
// writing O rows out0.. and their (m, ℓ).
typedef struct { i32 h, r0, rows, tile0, nTiles, out0, pad0, pad1; } Job;

#define PTR(T, off) ((T *)(uintptr_t)(off))

// exp2v (exp2.h): 2^x, the polynomial shared with scan.c; its error is stated there and tested in
// attention.test.ts through exp2_array.
static inline f32 exp2s(f32 x) { return wasm_f32x4_extract_lane(exp2v(wasm_f32x4_splat(x)), 0); }

// exp2 over n floats in place (n a multiple of 4): for the accuracy test.
EXPORT(exp2_array) void exp2_array(f32 *x, i32 n) {
  for (i32 i = 0; i < n; i += 4) wasm_v128_store(x + i, exp2v(wasm_v128_load(x + i)));
}

// S[4][Bk] = Q rows (4) · K tile ([D][Bk]): 4 rows × 8 keys of accumulators per pass.
static inline void qk4(const f32 *q0, const f32 *q1, const f32 *q2, const f32 *q3, const f32 *kt, i32 D, i32 Bk, f32 *S) {
  for (i32 c = 0; c < Bk; c += 8) {
    v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    const f32 *k = kt + c;
    for (i32 d = 0; d < D; d++, k += Bk) {
      v128_t k0 = wasm_v128_load(k), k1 = wasm_v128_load(k + 4);
      v128_t x = wasm_v128_load32_splat(q0 + d);
      a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x, k0));
      a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x, k1));
      x = wasm_v128_load32_splat(q1 + d);
      a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x, k0));
      a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x, k1));
      x = wasm_v128_load32_splat(q2 + d);
      a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x, k0));
      a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x, k1));
      x = wasm_v128_load32_splat(q3 + d);
      a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x, k0));
      a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x, k1));
    }
    wasm_v128_store(S + c, a00);
    wasm_v128_store(S + c + 4, a01);
    wasm_v128_store(S + Bk + c, a10);
    wasm_v128_store(S + Bk + c + 4, a11);
    wasm_v128_store(S + 2 * Bk + c, a20);
    wasm_v128_store(S + 2 * Bk + c + 4, a21);
    wasm_v128_store(S + 3 * Bk + c, a30);
    wasm_v128_store(S + 3 * Bk + c + 4, a31);
  }
}

// O[4][Dv] = O·alpha + P[4][Bk] · V tile ([Bk][Dv]): 4 rows × 8 output columns per pass.
static inline void pv4(const f32 *P, const f32 *V, i32 Bk, i32 Dv, f32 *O, const f32 *alpha) {
  v128_t s0 = wasm_f32x4_splat(alpha[0]), s1 = wasm_f32x4_splat(alpha[1]), s2 = wasm_f32x4_splat(alpha[2]), s3 = wasm_f32x4_splat(alpha[3]);
  for (i32 e = 0; e < Dv; e += 8) {
    f32 *o0 = O + e, *o1 = O + Dv + e, *o2 = O + 2 * Dv + e, *o3 = O + 3 * Dv + e;
    v128_t a00 = wasm_f32x4_mul(wasm_v128_load(o0), s0), a01 = wasm_f32x4_mul(wasm_v128_load(o0 + 4), s0);
    v128_t a10 = wasm_f32x4_mul(wasm_v128_load(o1), s1), a11 = wasm_f32x4_mul(wasm_v128_load(o1 + 4), s1);
    v128_t a20 = wasm_f32x4_mul(wasm_v128_load(o2), s2), a21 = wasm_f32x4_mul(wasm_v128_load(o2 + 4), s2);
    v128_t a30 = wasm_f32x4_mul(wasm_v128_load(o3), s3), a31 = wasm_f32x4_mul(wasm_v128_load(o3 + 4), s3);
    const f32 *v = V + e;
    for (i32 c = 0; c < Bk; c++, v += Dv) {
      v128_t v0 = wasm_v128_load(v), v1 = wasm_v128_load(v + 4);
      v128_t x = wasm_v128_load32_splat(P + c);
      a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x, v0));
      a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x, v1));
      x = wasm_v128_load32_splat(P + Bk + c);
      a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x, v0));
      a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x, v1));
      x = wasm_v128_load32_splat(P + 2 * Bk + c);
      a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x, v0));
      a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x, v1));
      x = wasm_v128_load32_splat(P + 3 * Bk + c);
      a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x, v0));
      a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x, v1));
    }
    wasm_v128_store(o0, a00);
    wasm_v128_store(o0 + 4, a01);
    wasm_v128_store(o1, a10);
    wasm_v128_store(o1 + 4, a11);
    wasm_v128_store(o2, a20);
    wasm_v128_store(o2 + 4, a21);
    wasm_v128_store(o3, a30);
    wasm_v128_store(o3 + 4, a31);
  }
}

// Adds the ALiBi bias and, on partial tiles, applies the rules to one row of scores (keys j0..):
// kind 1 every rule, kind 3 the band rules only (attention-spec.ts's TileKind).
static void modify_row(const Config *cf, f32 *S, i32 r, i32 j0, f32 slope, i32 kind) {
  const i32 *kpos = PTR(i32, cf->kpos) + j0;
  const i32 qp = PTR(i32, cf->qpos)[r];
  const v128_t vi = wasm_i32x4_splat(qp), ninf = wasm_f32x4_splat(NEG_INF);
  const v128_t vslope = wasm_f32x4_splat(slope), vqf = wasm_f32x4_splat((f32)qp);
  const Band *bands = PTR(Band, cf->band);
  const Interval *ivs = PTR(Interval, cf->interval);
  const Rank1 *r1 = PTR(Rank1, cf->rank1);
  const i32 nInterval = kind == 3 ? 0 : cf->nInterval, nRank1 = kind == 3 ? 0 : cf->nRank1;
  for (i32 c = 0; c < cf->Bk; c += 4) {
    v128_t s = wasm_v128_load(S + c);
    v128_t vj = wasm_v128_load(kpos + c);
    if (slope != 0) s = wasm_f32x4_add(s, wasm_f32x4_mul(vslope, wasm_f32x4_sub(wasm_f32x4_convert_i32x4(vj), vqf)));
    if (kind) {
      v128_t ok = wasm_i32x4_ge(vj, wasm_i32x4_splat(0));
      for (i32 b = 0; b < cf->nBand; b++) {
        const Band *bd = bands + b;
        v128_t d = wasm_i32x4_sub(vi, vj);
        v128_t pass = wasm_v128_and(wasm_i32x4_le(d, wasm_i32x4_splat(bd->lo)), wasm_i32x4_ge(d, wasm_i32x4_splat(-bd->hi)));
        pass = wasm_v128_or(pass, wasm_i32x4_lt(vj, wasm_i32x4_splat(bd->gcol)));
        if (qp < bd->grow) pass = wasm_i32x4_splat(-1);
        ok = wasm_v128_and(ok, pass);
      }
      for (i32 t = 0; t < nInterval; t++) {
        const Interval *iv = ivs + t;
        v128_t lo = wasm_i32x4_max(wasm_i32x4_splat(PTR(i32, iv->qa)[r]), wasm_v128_load(PTR(i32, iv->ka) + j0 + c));
        v128_t hi = wasm_i32x4_min(wasm_i32x4_splat(PTR(i32, iv->qb)[r]), wasm_v128_load(PTR(i32, iv->kb) + j0 + c));
        ok = wasm_v128_and(ok, wasm_i32x4_le(lo, hi));
      }
      for (i32 t = 0; t < nRank1; t++) {
        f32 w = PTR(f32, r1[t].qw)[r];
        if (w != 0) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_splat(w), wasm_v128_load(PTR(f32, r1[t].kw) + j0 + c)));
      }
      s = wasm_v128_bitselect(s, ninf, ok);
    }
    wasm_v128_store(S + c, s);
  }
}

// Online softmax for one row of a tile: updates (m, ℓ), turns S into P, returns alpha = 2^(m_old − m_new).
static inline f32 softmax_row(f32 *S, i32 Bk, f32 *m, f32 *l) {
  v128_t mx = wasm_f32x4_splat(NEG_INF);
  for (i32 c = 0; c < Bk; c += 4) mx = wasm_f32x4_pmax(mx, wasm_v128_load(S + c));
  f32 tm = wasm_f32x4_extract_lane(mx, 0);
  for (int k = 1; k < 4; k++) {
    f32 x = k == 1 ? wasm_f32x4_extract_lane(mx, 1) : k == 2 ? wasm_f32x4_extract_lane(mx, 2) : wasm_f32x4_extract_lane(mx, 3);
    tm = x > tm ? x : tm;
  }
  f32 mNew = tm > *m ? tm : *m;
  f32 base = mNew == NEG_INF ? 0.0f : mNew; // a row masked so far keeps P = 0
  f32 alpha = exp2s(*m - base);
  v128_t vb = wasm_f32x4_splat(base), sum = wasm_f32x4_splat(0);
  for (i32 c = 0; c < Bk; c += 4) {
    v128_t p = exp2v(wasm_f32x4_sub(wasm_v128_load(S + c), vb));
    wasm_v128_store(S + c, p);
    sum = wasm_f32x4_add(sum, p);
  }
  f32 ts = wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 1) + wasm_f32x4_extract_lane(sum, 2) + wasm_f32x4_extract_lane(sum, 3);
  *l = *l * alpha + ts;
  *m = mNew;
  return alpha;
}

// ReLU attention for one row of a tile: S becomes relu(S) (a masked −∞ gives 0) and ℓ counts the
// keys the row sees (the scores a rule did not mask).
static inline void relu_row(f32 *S, i32 Bk, f32 *l) {
  const v128_t zero = wasm_f32x4_splat(0), ninf = wasm_f32x4_splat(NEG_INF);
  v128_t seen = wasm_i32x4_splat(0);
  for (i32 c = 0; c < Bk; c += 4) {
    v128_t s = wasm_v128_load(S + c);
    seen = wasm_i32x4_sub(seen, wasm_f32x4_gt(s, ninf)); // a true lane is −1
    wasm_v128_store(S + c, wasm_f32x4_pmax(zero, s));
  }
  *l += (f32)(wasm_i32x4_extract_lane(seen, 0) + wasm_i32x4_extract_lane(seen, 1) + wasm_i32x4_extract_lane(seen, 2) + wasm_i32x4_extract_lane(seen, 3));
}

// Scratch per instance: S/P (4·Bk), alpha (4), O (rows·Dv), m and ℓ (rows each). Softmax keeps
// (m, ℓ) of the online softmax; ReLU keeps ℓ = the visible keys and ends with m = 0 where ℓ > 0, so
// merge_splits weights its split-K parts by their counts (Σ sums / Σ counts) and the host's
// log-sum-exp reads ln(count).
static void run_job(const Config *cf, const Job *jb, const i32 *tiles, f32 *scratch) {
  const i32 D = cf->D, Dv = cf->Dv, Bk = cf->Bk, rows = jb->rows;
  const i32 g = jb->h / cf->group;
  const f32 *Q = PTR(f32, cf->q) + ((i32)jb->h * cf->Tq + jb->r0) * D;
  const f32 *Kt = PTR(f32, cf->kt) + (i32)g * cf->nTiles * D * Bk;
  const f32 *V = PTR(f32, cf->v) + (i32)g * cf->nTiles * Bk * Dv;
  const f32 slope = cf->slopes ? PTR(f32, cf->slopes)[cf->slopeByRow ? jb->r0 : jb->h] : 0.0f;
  const i32 groups = (rows + 3) / 4;
  f32 *S = scratch, *alpha = S + 4 * Bk, *O = alpha + 4, *M = O + groups * 4 * Dv, *L = M + groups * 4;
  for (i32 r = 0; r < groups * 4; r++) M[r] = NEG_INF, L[r] = 0;
  for (i32 e = 0; e < groups * 4 * Dv; e++) O[e] = 0;
  for (i32 ti = 0; ti < jb->nTiles; ti++) {
    const i32 code = tiles[jb->tile0 + ti], t = code >> 2, kind = code & 3;
    const f32 *kt = Kt + t * D * Bk, *vt = V + t * Bk * Dv;
    for (i32 gr = 0; gr < groups; gr++) {
      // Rows past the job's last are computed on a copy of its last row and never stored.
      const i32 a = gr * 4, last = rows - 1;
      const f32 *q0 = Q + (a < last ? a : last) * D, *q1 = Q + (a + 1 < last ? a + 1 : last) * D;
      const f32 *q2 = Q + (a + 2 < last ? a + 2 : last) * D, *q3 = Q + (a + 3 < last ? a + 3 : last) * D;
      qk4(q0, q1, q2, q3, kt, D, Bk, S);
      for (i32 k = 0; k < 4; k++) {
        const i32 r = jb->r0 + (a + k < last ? a + k : last);
        if (slope != 0 || kind) modify_row(cf, S + k * Bk, r, t * Bk, slope, kind);
        if (cf->relu) relu_row(S + k * Bk, Bk, L + a + k), alpha[k] = 1.0f;
        else alpha[k] = softmax_row(S + k * Bk, Bk, M + a + k, L + a + k);
      }
      pv4(S, vt, Bk, Dv, O + a * Dv, alpha);
    }
  }
  f32 *out = PTR(f32, cf->o) + jb->out0 * Dv, *ml = PTR(f32, cf->ml) + jb->out0 * 2;
  // ReLU: the scores were in log2 units (Q pre-scaled by log2 e); relu is positively homogeneous, so
  // the sum is log2(e) times the natural one: ln 2 takes it back.
  const f32 unit = cf->relu ? 0.69314718055994531f : 1.0f;
  for (i32 r = 0; r < rows; r++) {
    const f32 inv = L[r] > 0 ? unit / L[r] : 0.0f;
    for (i32 e = 0; e < Dv; e++) out[r * Dv + e] = O[r * Dv + e] * inv;
    ml[2 * r] = cf->relu && L[r] > 0 ? 0.0f : M[r];
    ml[2 * r + 1] = L[r];
  }
}

// Jobs j0..j1−1 on this thread (single-threaded callers chunk the range to check for cancel).
EXPORT(run_range) void run_range(const Config *cf, const Job *jobs, const i32 *tiles, i32 j0, i32 j1, f32 *scratch) {
  for (i32 j = j0; j < j1; j++) run_job(cf, jobs + j, tiles, scratch);
}

// Worker threads share a job counter; each takes the next job until none is left or cancel is set.
EXPORT(run_queue) i32 run_queue(const Config *cf, const Job *jobs, const i32 *tiles, i32 n, i32 *counter, const i32 *cancel, f32 *scratch) {
  i32 done = 0;
  for (;;) {
    if (__atomic_load_n(cancel, __ATOMIC_RELAXED)) break;
    i32 j = __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    if (j >= n) break;
    run_job(cf, jobs + j, tiles, scratch);
    done++;
  }
  return done;
}

// Rows merged by log-sum-exp (split-K parts, or a query's rows over several sub-sequences), in the
// log2 domain of the jobs' (m, ℓ): output row x merges the n = index[x·(1+S)] rows listed after it,
// each normalised by its own ℓ: out = Σ w_s·O_s / Σ w_s with w_s = ℓ_s·2^(m_s − M), M = max m_s over
// rows with ℓ_s > 0; its (M, Σ w_s) go to mlOut, so the host reads it like an unmerged row.
// (ReLU rows carry m = 0 and ℓ = their count: the weights are the counts.)
EXPORT(merge_rows) void merge_rows(const i32 *index, i32 rows, i32 S, const f32 *O, const f32 *ML, i32 Dv, f32 *out, f32 *mlOut) {
  for (i32 x = 0; x < rows; x++) {
    const i32 *list = index + x * (1 + S) + 1, n = index[x * (1 + S)];
    f32 M = NEG_INF;
    for (i32 s = 0; s < n; s++) {
      const i32 row = list[s];
      if (ML[2 * row + 1] > 0 && ML[2 * row] > M) M = ML[2 * row];
    }
    f32 *o = out + x * Dv;
    for (i32 e = 0; e < Dv; e += 4) wasm_v128_store(o + e, wasm_f32x4_splat(0));
    f32 wsum = 0;
    if (M != NEG_INF)
      for (i32 s = 0; s < n; s++) {
        const i32 row = list[s];
        if (!(ML[2 * row + 1] > 0)) continue;
        const f32 w = ML[2 * row + 1] * exp2s(ML[2 * row] - M);
        const v128_t vw = wasm_f32x4_splat(w);
        const f32 *src = O + row * Dv;
        for (i32 e = 0; e < Dv; e += 4) wasm_v128_store(o + e, wasm_f32x4_add(wasm_v128_load(o + e), wasm_f32x4_mul(vw, wasm_v128_load(src + e))));
        wsum += w;
      }
    const v128_t inv = wasm_f32x4_splat(wsum > 0 ? 1.0f / wsum : 0.0f);
    for (i32 e = 0; e < Dv; e += 4) wasm_v128_store(o + e, wasm_f32x4_mul(wasm_v128_load(o + e), inv));
    mlOut[2 * x] = M;
    mlOut[2 * x + 1] = wsum;
  }
}

// Layout helpers, so the host's copy into the kernel's memory is a memcpy plus these passes.
// x[0..n) *= c in place.
EXPORT(scale) void scale(f32 *x, i32 n, f32 c) {
  const v128_t vc = wasm_f32x4_splat(c);
  i32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), vc));
  for (; i < n; i++) x[i] *= c;
}

// Gathered rows: dst row a (dstN floats) = src row rows[a] (its first n floats, the rest zeros);
// rows[a] < 0 gives a zero row. One pass in the kernel's memory instead of a host copy per row.
EXPORT(gather_rows) void gather_rows(const f32 *src, i32 n, const i32 *rows, i32 count, f32 *dst, i32 dstN) {
  for (i32 a = 0; a < count; a++) {
    f32 *d = dst + a * dstN;
    i32 e = 0;
    if (rows[a] >= 0) {
      __builtin_memcpy(d, src + rows[a] * n, n * sizeof(f32));
      e = n;
    }
    for (; e < dstN; e++) d[e] = 0;
  }
}

// K [Hkv][Tk][D] → tiles [Hkv][nT][D][Bk], zeros past Tk.
EXPORT(pack_kt) void pack_kt(const f32 *k, f32 *kt, i32 Hkv, i32 Tk, i32 D, i32 Bk, i32 nT) {
  for (i32 g = 0; g < Hkv; g++)
    for (i32 t = 0; t < nT; t++) {
      f32 *dst = kt + (g * nT + t) * D * Bk;
      for (i32 c = 0; c < Bk; c++) {
        const i32 j = t * Bk + c;
        const f32 *src = k + (g * Tk + j) * D;
        if (j < Tk)
          for (i32 d = 0; d < D; d++) dst[d * Bk + c] = src[d];
        else
          for (i32 d = 0; d < D; d++) dst[d * Bk + c] = 0;
      }
    }
}

// The wasm-SIMD f32 multiply-add peak: 12 independent chains of a = a·b + c (8 flops per vector pair).
EXPORT(peak) f32 peak(i32 iters) {
  v128_t b = wasm_f32x4_splat(0.999f), c = wasm_f32x4_splat(0.001f);
  v128_t a0 = wasm_f32x4_splat(0.1f), a1 = wasm_f32x4_splat(0.2f), a2 = wasm_f32x4_splat(0.3f), a3 = wasm_f32x4_splat(0.4f);
  v128_t a4 = wasm_f32x4_splat(0.5f), a5 = wasm_f32x4_splat(0.6f), a6 = wasm_f32x4_splat(0.7f), a7 = wasm_f32x4_splat(0.8f);
  v128_t a8 = wasm_f32x4_splat(0.9f), a9 = wasm_f32x4_splat(1.0f), a10 = wasm_f32x4_splat(1.1f), a11 = wasm_f32x4_splat(1.2f);
  for (i32 i = 0; i < iters; i++) {
#define STEP(a) a = wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
    STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
    STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
#undef STEP
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)), wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9), wasm_f32x4_add(a10, a11)));
  return wasm_f32x4_extract_lane(s, 0);
}

// Flops per `peak` iteration, for the host's GFLOP/s.
EXPORT(peak_flops_per_iter) i32 peak_flops_per_iter(void) { return 12 * 8; }
