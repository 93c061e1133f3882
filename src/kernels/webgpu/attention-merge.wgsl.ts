// Flash-Decoding's merge in WGSL: the split-K parts of each output row (each normalised, with its
// natural log-sum-exp) recombined with weights e^(lse_s − max), on the device — so a split-K node
// reads back only the merged output, and never round-trips through the host between the splits and
// the merge. One invocation per output row. The same index (mergeIndexOf in attention-spec.ts) also
// merges a variant's sub-sequence rows (spec.merge); the wasm twin is merge_rows in attention.c.

export const MERGE_WG = 64;

/** Uniform block: rows to merge, Dv, max parts per row, rows of the parts buffer, dispatch width. */
export const MERGE_FIELDS = ['rows', 'dv', 'parts', 'partRows', 'dispatchX', 'pad0', 'pad1', 'pad2'] as const;

export const mergeShader = () => /* wgsl */ `
struct Params { rows: u32, dv: u32, parts: u32, partRows: u32, dispatchX: u32, pad0: u32, pad1: u32, pad2: u32 }
// The kernel's result: part rows [partRows, Dv], then each part row's log-sum-exp [partRows]
@group(0) @binding(0) var<storage, read> part: array<f32>;
// Per output row: its number of parts, then that many part rows (a fixed stride of 1 + parts)
@group(0) @binding(1) var<storage, read> index: array<u32>;
// Merged O [rows, Dv], then the merged log-sum-exp [rows]
@group(0) @binding(2) var<storage, read_write> merged: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

const NEG = -3.0e38;

@compute @workgroup_size(${MERGE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * P.dispatchX * ${MERGE_WG}u;
  if (row >= P.rows) { return; }
  let at = row * (1u + P.parts);
  let n = index[at];
  var M = NEG;
  for (var s = 0u; s < n; s++) { M = max(M, part[P.partRows * P.dv + index[at + 1u + s]]); }
  for (var e = 0u; e < P.dv; e++) { merged[row * P.dv + e] = 0.0; }
  if (M <= -1.0e38) {
    merged[P.rows * P.dv + row] = NEG;
    return;
  }
  var wsum = 0.0;
  for (var s = 0u; s < n; s++) {
    let p = index[at + 1u + s];
    let w = exp(part[P.partRows * P.dv + p] - M);
    wsum += w;
    for (var e = 0u; e < P.dv; e++) { merged[row * P.dv + e] += w * part[p * P.dv + e]; }
  }
  for (var e = 0u; e < P.dv; e++) { merged[row * P.dv + e] /= wsum; }
  merged[P.rows * P.dv + row] = M + log(wsum);
}
`;
