// Pruning masks and sparse-format sizes, in plain TypeScript (the oracle and the implementation:
// a mask is a sort per matrix or per row, cheap next to the model's forward pass).
// A weight is W [out, in] in HF's layout (row o = output unit o, column j = input feature j).

export type PruneMethod = 'magnitude' | 'wanda';
export type PruneStructure = { kind: 'unstructured'; sparsity: number } | { kind: 'nm'; n: number; m: number };

/**
 * Pruning score of each weight: |W_ij| (magnitude) or |W_ij|·‖X_j‖₂ (Wanda, with ‖X_j‖₂ the norm of
 * input feature j over the calibration tokens).
 */
export function pruneScores(w: Float32Array, rows: number, cols: number, norms?: ArrayLike<number>): Float64Array {
  if (norms && norms.length !== cols) throw new Error(`input norms have ${norms.length} entries; the weight has ${cols} input columns`);
  const s = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) s[r * cols + c] = Math.abs(w[r * cols + c]!) * (norms ? norms[c]! : 1);
  return s;
}

/** Marks the `k` lowest of scores[idx] (ties: the lower index first) in `mask` (1 = pruned). */
function pruneLowest(scores: Float64Array, idx: number[], k: number, mask: Uint8Array): void {
  idx.sort((a, b) => scores[a]! - scores[b]! || a - b);
  for (let i = 0; i < k; i++) mask[idx[i]!] = 1;
}

/**
 * The pruning mask (1 = set to zero) of a [rows, cols] matrix:
 * - unstructured, group 'matrix': the floor(s·rows·cols) lowest scores of the whole matrix
 *   (layer-wise magnitude pruning, the Wanda paper's magnitude baseline);
 * - unstructured, group 'row': the floor(s·cols) lowest of each output row (Wanda's comparison group);
 * - N:M: in every run of M consecutive inputs of a row, all but the N highest (2:4 keeps 2 of 4).
 */
export function pruneMask(scores: Float64Array, rows: number, cols: number, structure: PruneStructure, group: 'matrix' | 'row'): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  if (structure.kind === 'nm') {
    const { n, m } = structure;
    if (cols % m !== 0) throw new Error(`N:M pruning needs the input dim (${cols}) to be a multiple of M = ${m}`);
    for (let r = 0; r < rows; r++)
      for (let c0 = 0; c0 < cols; c0 += m) pruneLowest(scores, Array.from({ length: m }, (_, i) => r * cols + c0 + i), m - n, mask);
    return mask;
  }
  const s = structure.sparsity;
  if (group === 'matrix') pruneLowest(scores, Array.from({ length: rows * cols }, (_, i) => i), Math.floor(s * rows * cols), mask);
  else for (let r = 0; r < rows; r++) pruneLowest(scores, Array.from({ length: cols }, (_, i) => r * cols + i), Math.floor(s * cols), mask);
  return mask;
}

/** W with the masked weights set to 0 (a copy). */
export function applyMask(w: Float32Array, mask: Uint8Array): Float32Array {
  return w.map((v, i) => (mask[i] ? 0 : v));
}

/** Bytes a [rows, cols] matrix needs dense, as CSR, and as NVIDIA's 2:4 semi-structured format. */
export interface SparseBytes {
  nonzeros: number;
  denseF32: number;
  denseBf16: number;
  /** CSR: values (f32 or bf16) + int32 column index per nonzero + int32 row pointers (rows + 1). */
  csrF32: number;
  csrBf16: number;
  /**
   * 2:4 semi-structured (sparse tensor cores, 16-bit values): half the values plus a 2-bit index per
   * kept value (4 bits per group of 4); null when some group of 4 holds more than 2 nonzeros, or the
   * input dim is not a multiple of 4.
   */
  semi24Bf16: number | null;
}

export function sparseBytes(w: Float32Array, rows: number, cols: number): SparseBytes {
  let nnz = 0;
  let fits24 = cols % 4 === 0;
  for (let r = 0; r < rows; r++)
    for (let c0 = 0; c0 < cols; c0 += 4) {
      let g = 0;
      for (let c = c0; c < Math.min(c0 + 4, cols); c++) if (w[r * cols + c] !== 0) g++;
      nnz += g;
      if (g > 2) fits24 = false;
    }
  const n = rows * cols;
  return {
    nonzeros: nnz,
    denseF32: 4 * n,
    denseBf16: 2 * n,
    csrF32: nnz * (4 + 4) + 4 * (rows + 1),
    csrBf16: nnz * (2 + 4) + 4 * (rows + 1),
    semi24Bf16: fits24 ? (n / 2) * 2 + n / 8 : null,
  };
}

/** Prunes one matrix: scores, mask, pruned copy. */
export function pruneMatrix(
  w: Float32Array,
  rows: number,
  cols: number,
  o: { method: PruneMethod; structure: PruneStructure; norms?: ArrayLike<number> },
): Float32Array {
  if (o.method === 'wanda' && !o.norms) throw new Error('Wanda needs the input activation norms ‖X_j‖₂');
  const scores = pruneScores(w, rows, cols, o.method === 'wanda' ? o.norms : undefined);
  // Magnitude compares across the whole matrix; Wanda within each output row (its paper, §3).
  return applyMask(w, pruneMask(scores, rows, cols, o.structure, o.method === 'wanda' ? 'row' : 'matrix'));
}
