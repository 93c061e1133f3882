// One configuration of every position variant, at head dim 16 (longrope's lists have D/2 = 8 entries),
// scaled so that each rule changes something at the positions the tests use.
export const EVERY_VARIANT_D16: Record<string, unknown>[] = [
  { variant: 'rope' },
  { variant: 'linear', factor: 4 },
  { variant: 'ntk', factor: 4 },
  { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 64 },
  { variant: 'yarn', factor: 8, originalMaxPositionEmbeddings: 256 },
  { variant: 'longrope', shortFactor: Array(8).fill(1.5), longFactor: [1, 2, 3, 4, 5, 6, 7, 8], originalMaxPositionEmbeddings: 1024 },
  { variant: 'llama3', factor: 8, originalMaxPositionEmbeddings: 64 },
  { variant: 'xpos', scaleBase: 4096 },
  { variant: 'sinusoidal' },
  { variant: 'none' },
  { variant: 'alibi' },
];
