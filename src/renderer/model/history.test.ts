import { describe, expect, it } from 'vitest';
import { History } from './history.js';

describe('History', () => {
  it('undoes and redoes in order; a new change clears redo', () => {
    const h = new History<number>();
    h.push(0);
    h.push(1);
    expect(h.undo(2)).toBe(1);
    expect(h.undo(1)).toBe(0);
    expect(h.undo(0)).toBeUndefined();
    expect(h.redo(0)).toBe(1);
    h.push(1);
    expect(h.canRedo).toBe(false);
  });

  it('coalesces changes that share a key within the window into one step', () => {
    const h = new History<string>(100, 1000);
    h.push('a', 'param:x', 0);
    h.push('ab', 'param:x', 500);
    h.push('abc', 'param:x', 900);
    h.push('abcd', 'param:y', 950);
    expect(h.undo('abcde')).toBe('abcd');
    expect(h.undo('abcd')).toBe('a');
    h.push('a', 'k', 0);
    h.seal();
    h.push('b', 'k', 10);
    expect(h.undo('c')).toBe('b');
  });

  it('keeps at most `limit` steps', () => {
    const h = new History<number>(3);
    for (let i = 0; i < 10; i++) h.push(i);
    expect([h.undo(10), h.undo(9), h.undo(8), h.undo(7)]).toEqual([9, 8, 7, undefined]);
  });
});
