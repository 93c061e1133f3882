import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { interruptHandler } from './run.js';
import { CancelToken } from '../engine/run/runtime.js';

describe('Ctrl-C during ctxlab run', () => {
  it('first asks for a graceful stop, then cancels; the handler is removed after the run', () => {
    const signals = new EventEmitter();
    const token = new CancelToken(new SharedArrayBuffer(4));
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const h = interruptHandler({ stop: () => token.stop(), cancel: () => token.cancel() }, signals);
      signals.emit('SIGINT');
      expect([token.stopRequested, token.cancelled]).toEqual([true, false]);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/stopping: .*keep what they have; Ctrl-C again cancels/);
      signals.emit('SIGINT');
      expect([token.stopRequested, token.cancelled]).toEqual([false, true]);
      h.remove();
      expect(signals.listenerCount('SIGINT')).toBe(0);
    } finally {
      write.mockRestore();
    }
  });

  it('a stop never turns a cancel back into a stop, and reset clears both', () => {
    const token = new CancelToken(new ArrayBuffer(4));
    token.cancel();
    token.stop();
    expect([token.cancelled, token.stopRequested]).toEqual([true, false]);
    token.reset();
    expect([token.cancelled, token.stopRequested]).toEqual([false, false]);
  });
});
