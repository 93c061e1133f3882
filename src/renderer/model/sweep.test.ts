import { describe, expect, it } from 'vitest';
import { sweepSeries, sweepStatus } from './sweep.js';

describe('sweep series', () => {
  it('plots the affected nodes that finished, in the same order whatever their times', () => {
    const affected = ['qkv', 'naive', 'flash', 'cmp']; // engine/run/sweep.ts's affectedNodes
    const done = { status: 'done' };
    type Point = { nodes: Record<string, { status: string }> };
    const run1: Point[] = [{ nodes: { mamba: done, cmp: done, naive: done, qkv: done, flash: { status: 'failed' } } }];
    const run2: Point[] = [{ nodes: { naive: done } }, { nodes: { flash: done, qkv: done, other: done } }];
    expect(sweepSeries(affected, run1)).toEqual(['qkv', 'naive', 'cmp']);
    expect(sweepSeries(affected, run2)).toEqual(['qkv', 'naive', 'flash']);
  });

  it('says how the sweep ended', () => {
    const pts = (...st: ('ok' | 'refused' | 'failed' | 'cancelled')[]) => st.map((status) => ({ status }));
    expect(sweepStatus({ running: true, values: [1, 2], points: pts('ok') })).toBe('');
    expect(sweepStatus({ running: false, values: [], points: [] })).toBe('');
    expect(sweepStatus({ running: false, values: [1, 2, 3, 4], points: pts('ok', 'ok', 'ok', 'refused') })).toBe('sweep done: 3 of 4 values ran, 1 refused');
    expect(sweepStatus({ running: false, values: [1, 2, 3], points: pts('ok') })).toBe('sweep cancelled: 1 of 3 values ran');
    expect(sweepStatus({ running: false, values: [1, 2, 3], points: pts('ok', 'failed') })).toBe('sweep stopped: 1 of 3 values ran, 1 failed');
    expect(sweepStatus({ running: false, values: [1], points: pts('refused') })).toBe('sweep failed: 0 of 1 value ran, 1 refused');
  });
});
