// The engine worker client: a failed call leaves nothing open that would keep Node alive.
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { qkvAttention } from '../testdata/fixtures.js';
import { startEngineWorker } from '../engine-worker.js';

const handles = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe('startEngineWorker', () => {
  it('closes the event callback port of a call whose arguments could not be sent', async () => {
    const ports = handles('MessagePort');
    const engine = await startEngineWorker();
    // 10^5 levels overflow the structured-clone stack while the call's message is being built,
    // after Comlink has already opened the callback's MessageChannel.
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const doc = qkvAttention();
    doc.nodes[0]!.params = { ...doc.nodes[0]!.params, deep } as never;
    await expect(engine.api.run(doc, { backend: 'cpu' }, Comlink.proxy(() => {}))).rejects.toThrow(/call stack/);
    expect(handles('MessagePort')).toBeGreaterThan(ports);
    await engine.close();
    expect(handles('MessagePort')).toBe(ports);
  });

  it('runs a pipeline with an event callback, and closes cleanly', async () => {
    const ports = handles('MessagePort');
    const engine = await startEngineWorker();
    const events: string[] = [];
    const r = await engine.api.run(qkvAttention(), { backend: 'cpu' }, Comlink.proxy((e: { type: string }) => void events.push(e.type)));
    expect(r.ok && r.status).toBe('ok');
    await engine.close();
    expect(events).toContain('run-started'); // events trail the result: the later ones may not have arrived
    expect(handles('MessagePort')).toBe(ports);
  });
});
