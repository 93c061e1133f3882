import { describe, expect, it } from 'vitest';
import { parseSweepValues } from './fit.js';

// The log-log fit itself is tested with the rule it belongs to: src/engine/run/sweep.test.ts.
describe('sweep values', () => {
  it('parses sweep values: lists, K suffixes and doubling ranges', () => {
    expect(parseSweepValues('1K..8K')).toEqual([1024, 2048, 4096, 8192]);
    expect(parseSweepValues('100..1000 x10')).toEqual([100, 1000]);
    expect(parseSweepValues('512, 1024;2048')).toEqual([512, 1024, 2048]);
    expect(() => parseSweepValues('abc')).toThrow(/not a number/);
    expect(() => parseSweepValues('8..1')).toThrow(/goes from/);
  });
});
