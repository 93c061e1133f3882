import { describe, expect, it } from 'vitest';
import { affectedNodes, sweepSeries, sweepStatus } from './sweep.js';

// Two independent branches (qkv → naive, flash → cmp; other → mamba) and a sink listed before its source.
const graph = {
  nodes: [{ id: 'cmp' }, { id: 'other' }, { id: 'qkv' }, { id: 'mamba' }, { id: 'naive' }, { id: 'flash' }],
  edges: [
    { from: 'qkv.q', to: 'naive.q' },
    { from: 'qkv.k', to: 'naive.k' },
    { from: 'qkv.q', to: 'flash.q' },
    { from: 'naive.out', to: 'cmp.b' },
    { from: 'flash.out', to: 'cmp.a' },
    { from: 'other.x', to: 'mamba.x' },
  ],
};

describe('sweep series', () => {
  it('keeps only the swept node and what is downstream of it, in topological order', () => {
    expect(affectedNodes(graph, 'qkv')).toEqual(['qkv', 'naive', 'flash', 'cmp']);
    expect(affectedNodes(graph, 'flash')).toEqual(['flash', 'cmp']);
    expect(affectedNodes(graph, 'other')).toEqual(['other', 'mamba']);
    expect(affectedNodes(graph, 'gone')).toEqual([]);
  });

  it('plots the affected nodes that were measured, in the same order whatever their times', () => {
    const affected = affectedNodes(graph, 'qkv');
    const run1 = [{ nodes: { mamba: {}, cmp: {}, naive: {}, qkv: {} } }];
    const run2 = [{ nodes: { naive: {} } }, { nodes: { flash: {}, qkv: {}, other: {} } }];
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
