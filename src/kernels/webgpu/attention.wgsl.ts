// The fused attention kernel in WGSL (FlexAttention-style): one workgroup per job — a block of up to
// ROWS query rows of one head and the key tiles its block mask left (src/kernels/attention-spec.ts).
// Register-blocked: each invocation owns RB query rows (q, the running output, max and sum in
// private memory) and walks the keys KB at a time, so every K or V value it loads from workgroup
// memory feeds RB multiply-adds and every q value KB of them. The workgroup loads K/V a chunk of
// CHUNK keys at a time into workgroup memory; scores get the ALiBi slope and, on partial tiles only,
// the in-tile rules (band, interval, rank-1); an online softmax folds each chunk in (one rescale
// per chunk). Output per job row: O normalised, and its natural log-sum-exp (split-K merges on that).
// ReLU attention (shape.relu) is a second shader from the same source: relu(score) for the
// exponentials, the visible-key count for the sum, and log(count) for the log-sum-exp.

/** Query rows per job (a job of more rows is cut into jobs of ROWS). */
export const ROWS = 64;

/** Fields of the uniform block, in order (all 32-bit; `scale` is f32, the rest u32). */
export const PARAM_FIELDS = [
  'jobOffset', 'nJobs', 'dispatchX', 'Tq',
  'Tk', 'Bk', 'group', 'outRows',
  'nBand', 'nInterval', 'nRank1', 'hasSlopes',
  'oKpos', 'oJobs', 'oTiles', 'oBands',
  'oIntervals', 'TkP', 'oRank1', 'scale',
  // Keys per chunk again, at run time: the loop over a chunk's keys stays a loop (lavapipe's LLVM
  // took tens of seconds to compile, or hung, unrolling it around the inner ones).
  'd4', 'v4', 'chunk', 'pad',
] as const;

export const JOB_INTS = 6;

/** Below this, a score counts as masked (scores are set to NEG when a rule masks them). */
const NEG = '-3.0e38';

export interface ShaderShape {
  D: number;
  Dv: number;
  /** Keys per workgroup-memory chunk (divides the tile's keys; a multiple of kb). */
  chunk: number;
  /** Query rows per invocation and keys per inner step (register blocking); ROWS / rb invocations per workgroup. */
  rb: number;
  kb: number;
  /** ReLU attention (FusedAttentionSpec.score): relu(score)·v summed over the visible keys, divided by their count. */
  relu?: boolean;
}

/**
 * The blocking measured best on lavapipe (T = 512 and 1024, causal, D = 64; process CPU time, side by
 * side): 8 rows × 4 keys, i.e. 8 invocations per workgroup — one 8-lane SIMD batch of lavapipe's
 * LLVM code. 4×4 took 1.4×, 2×4 1.9×, 16×4 1.7× its CPU time; the one-row kernel before it 2.8×.
 */
export const BLOCKING = { rb: 8, kb: 4 } as const;

/**
 * The blocking measured best on a real GPU (an NVIDIA H200 through Dawn's Vulkan backend, causal,
 * H = 8, D = 64; GPU time from timestamp queries, bench/gpu-device.ts, docs/BENCHMARKS.md): 1 row ×
 * 4 keys, i.e. 64 invocations per workgroup, over K/V chunks of 16 keys. At T = 4096, 8×4 took 3–11×
 * its time (8 invocations leave most of each warp idle), 2×4 2–3× (its private arrays spill); at
 * T = 16384, chunks of 64 keys took 2× (the scores of a chunk no longer fit in registers).
 */
export const GPU_BLOCKING = { rb: 1, kb: 4, chunk: 16 } as const;

export const shaderKey = (s: ShaderShape) =>
  `fused-attention:D${s.D}:Dv${s.Dv}:C${s.chunk}:R${s.rb}:K${s.kb}${s.relu ? ':relu' : ''}`;

export const invocations = (s: Pick<ShaderShape, 'rb'>) => ROWS / s.rb;

/** The most invocations per workgroup any blocking above uses (what a node declares it needs). */
export const MAX_INVOCATIONS = Math.max(invocations(BLOCKING), invocations(GPU_BLOCKING));

/** Bytes of workgroup memory the shader declares: the K and V chunks, and the job's 6 fields (padded to 32). */
export const workgroupBytes = (s: Pick<ShaderShape, 'D' | 'Dv' | 'chunk'>) => s.chunk * (pad4(s.D) + pad4(s.Dv)) * 4 + 32;

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export function attentionShader({ D, Dv, chunk, rb: RB, kb: KB, relu = false }: ShaderShape): string {
  const D4 = pad4(D) / 4;
  const V4 = pad4(Dv) / 4;
  const WG = ROWS / RB;
  const fields = PARAM_FIELDS.map((f) => `  ${f}: ${f === 'scale' ? 'f32' : 'u32'},`).join('\n');
  return /* wgsl */ `
struct Params {
${fields}
}
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
// qpos [Tq] at 0, kpos [TkP] (−1: padding), jobs, tile codes, bands, interval arrays
@group(0) @binding(3) var<storage, read> ints: array<i32>;
// ALiBi slope per head [H] or per query row [Tq] at 0, then rank-1 pairs (qw [Tq], kw [TkP])
@group(0) @binding(4) var<storage, read> floats: array<f32>;
// O [outRows, Dv], then the log-sum-exp of each row [outRows]
@group(0) @binding(5) var<storage, read_write> result: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;

const D = ${D}u;
const DV = ${Dv}u;
const D4 = ${D4}u;
const V4 = ${V4}u;
const CHUNK = ${chunk}u;
const RB = ${RB}u;
const KB = ${KB}u;
const WG = ${WG}u;
const NEG = ${NEG};

var<workgroup> Ks: array<vec4<f32>, ${chunk * D4}>;
var<workgroup> Vs: array<vec4<f32>, ${chunk * V4}>;
var<workgroup> jobInfo: array<u32, 6>;

/** Whether row r (position i) may see key j (position kp) under every band rule and the first nIv interval rules. */
fn visible(r: u32, i: i32, j: u32, kp: i32, nIv: u32) -> bool {
  if (kp < 0) { return false; }
  for (var b = 0u; b < P.nBand; b++) {
    let o = P.oBands + b * 4u;
    let d = i - kp;
    let ok = (d <= ints[o + 2u] && d >= -ints[o + 3u]) || kp < ints[o] || i < ints[o + 1u];
    if (!ok) { return false; }
  }
  for (var t = 0u; t < nIv; t++) {
    let o = P.oIntervals + t * 2u * (P.Tq + P.TkP);
    let lo = max(ints[o + r], ints[o + 2u * P.Tq + j]);
    let hi = min(ints[o + P.Tq + r], ints[o + 2u * P.Tq + P.TkP + j]);
    if (lo > hi) { return false; }
  }
  return true;
}

fn rank1(r: u32, j: u32) -> f32 {
  var s = 0.0;
  for (var t = 0u; t < P.nRank1; t++) {
    let o = P.oRank1 + t * (P.Tq + P.TkP);
    s += floats[o + r] * floats[o + P.Tq + j];
  }
  return s;
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = wid.x + wid.y * P.dispatchX;
  if (slot >= P.nJobs) { return; }
  // The job's fields through workgroup memory, so loop bounds are uniform across the workgroup.
  for (var x = lid; x < 6u; x += WG) { jobInfo[x] = u32(ints[P.oJobs + (P.jobOffset + slot) * 6u + x]); }
  let h = workgroupUniformLoad(&jobInfo[0]);
  let r0 = workgroupUniformLoad(&jobInfo[1]);
  let rows = workgroupUniformLoad(&jobInfo[2]);
  let tile0 = workgroupUniformLoad(&jobInfo[3]);
  let nTiles = workgroupUniformLoad(&jobInfo[4]);
  let out0 = workgroupUniformLoad(&jobInfo[5]);
  let g = h / P.group;
  // hasSlopes: 1 per head, 2 per query row (each job's rows share its first row's).
  let slope = select(0.0, floats[select(h, r0, P.hasSlopes == 2u)], P.hasSlopes != 0u);

  // This invocation's rows: lid, lid + WG, … (a row past the job repeats its last row, unwritten).
  var r: array<u32, RB>;
  var pos: array<i32, RB>;
  var q: array<vec4<f32>, ${RB * D4}>;
  var acc: array<vec4<f32>, ${RB * V4}>;
  var m: array<f32, RB>;
  var l: array<f32, RB>;
  for (var x = 0u; x < RB; x++) {
    r[x] = r0 + min(lid + x * WG, rows - 1u);
    pos[x] = ints[r[x]];
    m[x] = NEG;
    l[x] = 0.0;
    for (var d4 = 0u; d4 < D4; d4++) {
      var v = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        let d = d4 * 4u + c;
        if (d < D) { v[c] = Q[(h * P.Tq + r[x]) * D + d] * P.scale; }
      }
      q[x * D4 + d4] = v;
    }
    for (var e4 = 0u; e4 < V4; e4++) { acc[x * V4 + e4] = vec4<f32>(0.0); }
  }
  var s: array<f32, ${RB * chunk}>;

  // One loop over (tile, chunk) steps: lavapipe hung on a barrier in a nested chunk loop.
  let chunksPerTile = P.Bk / P.chunk;
  for (var step = 0u; step < nTiles * chunksPerTile; step++) {
    let code = u32(ints[P.oTiles + tile0 + step / chunksPerTile]);
    // Tile kind (attention-spec.ts's TileKind): 0 full, 1 every rule, 3 the band rules only.
    let partial = (code & 3u) != 0u;
    let allRules = (code & 3u) == 1u;
    let j0 = (code >> 2u) * P.Bk + (step % chunksPerTile) * P.chunk;
    workgroupBarrier();
    for (var x = lid; x < P.chunk * D4; x += WG) {
      let j = j0 + x / D4;
      var v = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        let d = (x % D4) * 4u + c;
        if (j < P.Tk && d < D) { v[c] = K[(g * P.Tk + j) * D + d]; }
      }
      Ks[x] = v;
    }
    for (var x = lid; x < P.chunk * V4; x += WG) {
      let j = j0 + x / V4;
      var v = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        let e = (x % V4) * 4u + c;
        if (j < P.Tk && e < DV) { v[c] = V[(g * P.Tk + j) * DV + e]; }
      }
      Vs[x] = v;
    }
    workgroupBarrier();

    // Scores: RB rows × KB keys per step, q and K each loaded once per step.
    var cmax: array<f32, RB>;
    for (var x = 0u; x < RB; x++) { cmax[x] = NEG; }
    for (var k0 = 0u; k0 < P.chunk; k0 += KB) {
      var sc: array<f32, ${RB * KB}>;
      for (var t = 0u; t < RB * KB; t++) { sc[t] = 0.0; }
      for (var d4 = 0u; d4 < D4; d4++) {
        var kv: array<vec4<f32>, KB>;
        for (var c = 0u; c < KB; c++) { kv[c] = Ks[(k0 + c) * D4 + d4]; }
        for (var x = 0u; x < RB; x++) {
          let qv = q[x * D4 + d4];
          for (var c = 0u; c < KB; c++) { sc[x * KB + c] += dot(qv, kv[c]); }
        }
      }
      for (var c = 0u; c < KB; c++) {
        let j = j0 + k0 + c;
        let kp = ints[P.oKpos + j];
        for (var x = 0u; x < RB; x++) {
          var y = sc[x * KB + c];
          if (slope != 0.0) { y += slope * f32(kp - pos[x]); }
          if (partial) {
            if (visible(r[x], pos[x], j, kp, select(0u, P.nInterval, allRules))) { if (allRules) { y += rank1(r[x], j); } } else { y = NEG; }
          }
          s[x * CHUNK + k0 + c] = y;
          cmax[x] = max(cmax[x], y);
        }
      }
    }
${
  relu
    ? `    // ReLU attention: p = relu(score), ℓ counts the keys each row sees (no max, no rescale).
    for (var k0 = 0u; k0 < P.chunk; k0 += KB) {
      var p: array<f32, ${RB * KB}>;
      for (var x = 0u; x < RB; x++) {
        for (var c = 0u; c < KB; c++) {
          let y = s[x * CHUNK + k0 + c];
          let seen = y > -1.0e38;
          p[x * KB + c] = select(0.0, max(y, 0.0), seen);
          l[x] += select(0.0, 1.0, seen);
        }
      }`
    : `    // Online softmax: one rescale per row and chunk, then P·V with RB rows × KB keys per step.
    var mNew: array<f32, RB>;
    for (var x = 0u; x < RB; x++) {
      mNew[x] = max(m[x], cmax[x]);
      let corr = exp(m[x] - mNew[x]);
      l[x] *= corr;
      for (var e4 = 0u; e4 < V4; e4++) { acc[x * V4 + e4] *= corr; }
      m[x] = mNew[x];
    }
    for (var k0 = 0u; k0 < P.chunk; k0 += KB) {
      var p: array<f32, ${RB * KB}>;
      for (var x = 0u; x < RB; x++) {
        for (var c = 0u; c < KB; c++) {
          let y = s[x * CHUNK + k0 + c];
          let e = select(exp(y - mNew[x]), 0.0, y <= -1.0e38);
          p[x * KB + c] = e;
          l[x] += e;
        }
      }`
}
      for (var e4 = 0u; e4 < V4; e4++) {
        var vv: array<vec4<f32>, KB>;
        for (var c = 0u; c < KB; c++) { vv[c] = Vs[(k0 + c) * V4 + e4]; }
        for (var x = 0u; x < RB; x++) {
          var a = acc[x * V4 + e4];
          for (var c = 0u; c < KB; c++) { a += p[x * KB + c] * vv[c]; }
          acc[x * V4 + e4] = a;
        }
      }
    }
  }
  for (var x = 0u; x < RB; x++) {
    if (lid + x * WG < rows) {
      let row = out0 + lid + x * WG;
      let inv = select(0.0, 1.0 / l[x], l[x] > 0.0);
      for (var e = 0u; e < DV; e++) { result[row * DV + e] = acc[x * V4 + e / 4u][e % 4u] * inv; }
      // ReLU: log of the visible count, so the split-K merge weights each part by its count.
      result[P.outRows * DV + row] = select(NEG, ${relu ? 'log(l[x])' : 'm[x] + log(l[x])'}, l[x] > 0.0);
    }
  }
}
`;
}
