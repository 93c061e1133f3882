// The exact attention variants the kernel benchmarks time per computed tile against flash
// (bench/attention-kernel.ts on wasm, bench/gpu-device.ts on a real GPU): name and node params.
export const EXACT_VARIANTS: [string, Record<string, unknown>][] = [
  ['flash', { variant: 'flash' }],
  ['flash-decoding (8 splits)', { variant: 'flash-decoding', numSplits: 8 }],
  ['paged (blocks of 16)', { variant: 'paged', blockSize: 16 }],
  ['sliding window 1024', { variant: 'sliding-window', window: 1024 }],
  ['Longformer (window 512, 16 global)', { variant: 'longformer', window: 512, globalTokens: 16 }],
  ['BigBird (blocks of 64)', { variant: 'bigbird', blockSize: 64 }],
  ['dilated (512,1) (2048,4) (8192,16)', { variant: 'dilated', segmentLengths: [512, 2048, 8192], dilationRates: [1, 4, 16] }],
];
