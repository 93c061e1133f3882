// A simulated device's worker_thread (started by devices.ts): it runs one device program per
// message (device-programs.ts) over the MessagePorts to its peers, with its own heap and, on the
// wasm backend, its own instance of the fused attention kernel over its own wasm memory.
import { parentPort, type MessagePort } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runDeviceJob, type DeviceIO, type DeviceJob } from './device-programs.js';

interface Start {
  job: DeviceJob;
  /** [peer, port] pairs: the channels to the devices this one talks to. */
  links: [number, MessagePort][];
  cancel: SharedArrayBuffer;
}

// A full collection before each reading, so that what is measured is what the device still holds,
// not the blocks it has let go of (V8 exposes gc to contexts made after the flag is set).
let gc: (() => void) | undefined;
try {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as () => void;
} catch {
  gc = undefined;
}

parentPort!.on('message', async (m: Start) => {
  const inbox = new Map<number, { queue: unknown[]; waiting?: (x: unknown) => void }>();
  const ports = new Map<number, MessagePort>();
  for (const [peer, port] of m.links) {
    const box: { queue: unknown[]; waiting?: (x: unknown) => void } = { queue: [] };
    inbox.set(peer, box);
    ports.set(peer, port);
    port.on('message', (x: unknown) => {
      const w = box.waiting;
      if (w) {
        box.waiting = undefined;
        w(x);
      } else box.queue.push(x);
    });
  }
  const cancel = new Int32Array(m.cancel);
  const io: DeviceIO = {
    now: () => performance.timeOrigin + performance.now(),
    send: (to, msg) => ports.get(to)!.postMessage(msg),
    recv: (from) => {
      const box = inbox.get(from)!;
      return box.queue.length ? Promise.resolve(box.queue.shift()) : new Promise((r) => (box.waiting = r));
    },
    step: (step) => {
      if (Atomics.load(cancel, 0)) throw new Error('cancelled');
      parentPort!.postMessage({ type: 'step', step });
    },
    arrayBufferBytes: () => {
      gc?.();
      return process.memoryUsage().arrayBuffers;
    },
  };
  try {
    // Let the last job's buffers go before the baseline is read (their backing stores are freed
    // after a collection, not during it).
    for (let x = 0; x < 2 && gc; x++) {
      gc();
      await new Promise((r) => setTimeout(r, 0));
    }
    const r = await runDeviceJob(io, m.job);
    parentPort!.postMessage({ type: 'done', result: r }, [r.out.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ type: 'done', error: String((e as Error)?.message ?? e) });
  } finally {
    for (const port of ports.values()) port.close();
  }
});
parentPort!.postMessage({ type: 'ready' });
