// Small pipeline documents for engine tests.
export function qkvAttention(opts: { seqLen?: number; headDim?: number; variant?: string; blockSize?: number } = {}) {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'test',
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: opts.seqLen ?? 32, headDim: opts.headDim ?? 8 } },
      { id: 'naive', type: 'attention', params: { variant: 'naive' } },
      { id: 'flash', type: 'attention', params: { variant: opts.variant ?? 'flash', blockSize: opts.blockSize ?? 16 } },
      { id: 'cmp', type: 'compare' },
    ],
    edges: [
      { from: 'qkv.q', to: 'naive.q' }, { from: 'qkv.k', to: 'naive.k' }, { from: 'qkv.v', to: 'naive.v' },
      { from: 'qkv.q', to: 'flash.q' }, { from: 'qkv.k', to: 'flash.k' }, { from: 'qkv.v', to: 'flash.v' },
      { from: 'flash.out', to: 'cmp.a' }, { from: 'naive.out', to: 'cmp.b' },
    ],
  };
}
