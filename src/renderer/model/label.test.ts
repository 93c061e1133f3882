import { describe, expect, it } from 'vitest';
import { followLabel } from './label.js';

describe('labels that quote a param', () => {
  it('follow the param', () => {
    expect(followLabel('T = 2048', { seqLen: 2048 }, { seqLen: 16384 })).toBe('T = 16384');
    expect(followLabel('T = 2K, long', { seqLen: 2048 }, { seqLen: 16384 })).toBe('T = 16K, long');
    expect(followLabel('T = 2k', { seqLen: 2048 }, { seqLen: 1000 })).toBe('T = 1000');
    expect(followLabel('base 10000', { base: 10000, seqLen: 4 }, { base: 500000, seqLen: 4 })).toBe('base 500000');
  });

  it('leave labels alone that do not quote the old value once, as a whole number', () => {
    expect(followLabel('long run', { seqLen: 2048 }, { seqLen: 4096 })).toBe('long run');
    expect(followLabel('T = 20480', { seqLen: 2048 }, { seqLen: 4096 })).toBe('T = 20480');
    expect(followLabel('v2048b', { seqLen: 2048 }, { seqLen: 4096 })).toBe('v2048b');
    expect(followLabel('2048.5', { seqLen: 2048 }, { seqLen: 4096 })).toBe('2048.5');
    // "8 heads, 8 groups": which 8 is heads is not knowable.
    expect(followLabel('8 heads, 8 groups', { heads: 8 }, { heads: 16 })).toBe('8 heads, 8 groups');
    expect(followLabel(undefined, { seqLen: 1 }, { seqLen: 2 })).toBeUndefined();
  });
});
