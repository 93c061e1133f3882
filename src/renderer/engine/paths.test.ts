import { describe, expect, it } from 'vitest';
import { isFsPath, resolveIn } from './paths.js';

describe('resolving param paths in the worker', () => {
  const page = 'http://localhost:5178/assets/engine.worker.js';
  it('joins relative paths onto a folder, normalising . and ..', () => {
    expect(resolveIn('/home/u/pipes', 'data/x.npy', page)).toBe('/home/u/pipes/data/x.npy');
    expect(resolveIn('/home/u/pipes', './../x.npy', page)).toBe('/home/u/x.npy');
    expect(resolveIn('C:\\pipes', 'x.npy', page)).toBe('C:\\pipes\\x.npy');
    expect(resolveIn('/home/u', '/abs/y.npy', page)).toBe('/abs/y.npy');
  });
  it('resolves against URLs in the browser', () => {
    expect(resolveIn('.', 'x.npy', page)).toBe('http://localhost:5178/assets/x.npy');
    expect(resolveIn('http://h/p/', 'd/x.npy', page)).toBe('http://h/p/d/x.npy');
  });
  it('tells file-system paths from URLs', () => {
    expect(isFsPath('/a/b')).toBe(true);
    expect(isFsPath('C:\\a')).toBe(true);
    expect(isFsPath('http://h/a')).toBe(false);
  });
});
