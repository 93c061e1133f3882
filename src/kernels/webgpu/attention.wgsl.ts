// The fused attention kernel in WGSL (FlexAttention-style): one workgroup per job — a block of up to
// ROWS query rows of one head and the key tiles its block mask left (src/kernels/attention-spec.ts).
// Each invocation owns one query row (q and the running output in registers); the workgroup loads
// K/V a chunk of CHUNK keys at a time into workgroup memory; scores get the ALiBi slope and, on
// partial tiles only, the in-tile rules (band, interval, rank-1); an online softmax folds each chunk
// in. Output per job row: O normalised, and its natural log-sum-exp (split-K merges on that).

/** Invocations per workgroup = query rows per job. */
export const ROWS = 64;

/** Fields of the uniform block, in order (all 32-bit; `scale` is f32, the rest u32). */
export const PARAM_FIELDS = [
  'jobOffset', 'nJobs', 'dispatchX', 'Tq',
  'Tk', 'Bk', 'group', 'outRows',
  'nBand', 'nInterval', 'nRank1', 'hasSlopes',
  'oKpos', 'oJobs', 'oTiles', 'oBands',
  'oIntervals', 'TkP', 'oRank1', 'scale',
  // Keys per chunk (and D/4, Dv/4) again, at run time: the loop over a chunk's keys stays a loop
  // (lavapipe's LLVM took tens of seconds to compile, or hung, unrolling it around the inner ones).
  'd4', 'v4', 'chunk', 'pad',
] as const;

export const JOB_INTS = 6;

/** Below this, a score counts as masked (scores are set to NEG when a rule masks them). */
const NEG = '-3.0e38';

export interface ShaderShape {
  D: number;
  Dv: number;
  /** Keys per workgroup-memory chunk (divides the tile's keys). */
  chunk: number;
}

export const shaderKey = (s: ShaderShape) => `fused-attention:D${s.D}:Dv${s.Dv}:C${s.chunk}`;

/** Bytes of workgroup memory the shader declares: the K and V chunks, and the job's 6 fields (padded to 32). */
export const workgroupBytes = (s: ShaderShape) => s.chunk * (pad4(s.D) + pad4(s.Dv)) * 4 + 32;

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

export function attentionShader({ D, Dv, chunk }: ShaderShape): string {
  const D4 = pad4(D) / 4;
  const V4 = pad4(Dv) / 4;
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
// ALiBi slope per head [H] at 0, then rank-1 pairs (qw [Tq], kw [TkP])
@group(0) @binding(4) var<storage, read> floats: array<f32>;
// O [outRows, Dv], then the log-sum-exp of each row [outRows]
@group(0) @binding(5) var<storage, read_write> result: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;

const D = ${D}u;
const DV = ${Dv}u;
const D4 = ${D4}u;
const V4 = ${V4}u;
const CHUNK = ${chunk}u;
const ROWS = ${ROWS}u;
const NEG = ${NEG};

var<workgroup> Ks: array<vec4<f32>, ${chunk * D4}>;
var<workgroup> Vs: array<vec4<f32>, ${chunk * V4}>;
var<workgroup> jobInfo: array<u32, 6>;

/** Whether row r (position i) may see key j (position kp) under every band and interval rule. */
fn visible(r: u32, i: i32, j: u32, kp: i32) -> bool {
  if (kp < 0) { return false; }
  for (var b = 0u; b < P.nBand; b++) {
    let o = P.oBands + b * 4u;
    let d = i - kp;
    let ok = (d <= ints[o + 2u] && d >= -ints[o + 3u]) || kp < ints[o] || i < ints[o + 1u];
    if (!ok) { return false; }
  }
  for (var t = 0u; t < P.nInterval; t++) {
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

@compute @workgroup_size(${ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = wid.x + wid.y * P.dispatchX;
  if (slot >= P.nJobs) { return; }
  // The job's fields through workgroup memory, so loop bounds are uniform across the workgroup.
  if (lid < 6u) { jobInfo[lid] = u32(ints[P.oJobs + (P.jobOffset + slot) * 6u + lid]); }
  let h = workgroupUniformLoad(&jobInfo[0]);
  let r0 = workgroupUniformLoad(&jobInfo[1]);
  let rows = workgroupUniformLoad(&jobInfo[2]);
  let tile0 = workgroupUniformLoad(&jobInfo[3]);
  let nTiles = workgroupUniformLoad(&jobInfo[4]);
  let out0 = workgroupUniformLoad(&jobInfo[5]);
  let g = h / P.group;
  let live = lid < rows;
  let r = r0 + min(lid, rows - 1u);
  let i = ints[r];
  let slope = select(0.0, floats[h], P.hasSlopes != 0u);

  var q: array<vec4<f32>, D4>;
  for (var d4 = 0u; d4 < D4; d4++) {
    var x = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      let d = d4 * 4u + c;
      if (d < D) { x[c] = Q[(h * P.Tq + r) * D + d] * P.scale; }
    }
    q[d4] = x;
  }
  var acc: array<vec4<f32>, V4>;
  var m = NEG;
  var l = 0.0;
  var s: array<f32, CHUNK>;

  // One loop over (tile, chunk) steps: lavapipe hung on a barrier in a nested chunk loop.
  let chunksPerTile = P.Bk / P.chunk;
  for (var step = 0u; step < nTiles * chunksPerTile; step++) {
    let code = u32(ints[P.oTiles + tile0 + step / chunksPerTile]);
    let partial = (code & 1u) != 0u;
    let j0 = (code >> 1u) * P.Bk + (step % chunksPerTile) * P.chunk;
    {
      workgroupBarrier();
      for (var x = lid; x < P.chunk * P.d4; x += ROWS) {
        let kk = x / P.d4;
        let j = j0 + kk;
        var v = vec4<f32>(0.0);
        for (var c = 0u; c < 4u; c++) {
          let d = (x % P.d4) * 4u + c;
          if (j < P.Tk && d < D) { v[c] = K[(g * P.Tk + j) * D + d]; }
        }
        Ks[x] = v;
      }
      for (var x = lid; x < P.chunk * P.v4; x += ROWS) {
        let kk = x / P.v4;
        let j = j0 + kk;
        var v = vec4<f32>(0.0);
        for (var c = 0u; c < 4u; c++) {
          let e = (x % P.v4) * 4u + c;
          if (j < P.Tk && e < DV) { v[c] = V[(g * P.Tk + j) * DV + e]; }
        }
        Vs[x] = v;
      }
      workgroupBarrier();
      if (live) {
        var cmax = NEG;
        for (var kk = 0u; kk < P.chunk; kk++) {
          var dot4 = vec4<f32>(0.0);
          for (var d4 = 0u; d4 < D4; d4++) { dot4 += q[d4] * Ks[kk * D4 + d4]; }
          var x = dot4.x + dot4.y + dot4.z + dot4.w;
          let j = j0 + kk;
          let kp = ints[P.oKpos + j];
          if (slope != 0.0) { x += slope * f32(kp - i); }
          if (partial) {
            if (visible(r, i, j, kp)) { x += rank1(r, j); } else { x = NEG; }
          }
          s[kk] = x;
          cmax = max(cmax, x);
        }
        if (cmax > -1.0e38) {
          let mNew = max(m, cmax);
          let corr = exp(m - mNew);
          l *= corr;
          for (var e4 = 0u; e4 < V4; e4++) { acc[e4] *= corr; }
          for (var kk = 0u; kk < P.chunk; kk++) {
            let p = select(exp(s[kk] - mNew), 0.0, s[kk] <= -1.0e38);
            l += p;
            for (var e4 = 0u; e4 < V4; e4++) { acc[e4] += p * Vs[kk * V4 + e4]; }
          }
          m = mNew;
        }
      }
    }
  }
  if (live) {
    let row = out0 + lid;
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var e = 0u; e < DV; e++) { result[row * DV + e] = acc[e / 4u][e % 4u] * inv; }
    result[P.outRows * DV + row] = select(NEG, m + log(l), l > 0.0);
  }
}
`;
}
