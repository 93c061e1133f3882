import { describe, expect, it } from 'vitest';
import { checkUrl, isFsPath, resolveIn } from './paths.js';

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
  it('fetches only on the pipeline\'s origin, at or below its folder (the read policy for URLs)', () => {
    const access = { baseDir: 'http://localhost:5178/pipes/' };
    expect(() => checkUrl('http://localhost:5178/pipes/d/x.npy', access, page)).not.toThrow();
    expect(() => checkUrl(resolveIn('.', 'x.npy', page), { baseDir: '.' }, page)).not.toThrow();
    for (const url of ['http://localhost:5178/secret.npy', 'http://localhost:5178/pipes/../secret.npy', 'http://localhost:5178/pipes/%2e%2e/secret.npy', 'http://evil.example/pipes/x.npy', 'http://localhost:9999/pipes/x.npy', 'http://localhost:5178/pipes-other/x.npy'])
      expect(() => checkUrl(url, access, page), url).toThrow(/read refused: .* is outside the folders this pipeline may read/);
    expect(() => checkUrl('http://localhost:5178/data/x.npy', { ...access, allowRead: ['http://localhost:5178/data'] }, page)).not.toThrow();
  });
});
