// What one simulated device runs, for the distributed attention variants: ring attention's
// send-then-compute loop (ring.ts) and LongNet's sparsify / all-gather / attend loop
// (dilated-distributed.ts). The same functions run on a device's worker_thread (device-worker.ts)
// and, where there are no worker_threads, as async functions on the engine's thread (devices.ts).
// This module stays light (no zod, no tfjs): every device worker loads it.
//
// A device computes its blocks with one of two kernels: 'wasm', the fused wasm-SIMD attention kernel
// on one thread (each device worker instantiates its own copy, over its own wasm memory), which
// returns each row's output and log-sum-exp; or 'js', a plain float64 loop. Either way the blocks
// are folded into the rows' running state (m, ℓ, acc) with the online softmax, so the result is
// exact attention whatever the order of the blocks.
import { fusedAttention, POS_INF, type BandRule, type FusedAttentionSpec } from '../../kernels/wasm/attention.js';

export type DeviceKernel = 'js' | 'wasm';

/** How a device talks to its peers and to the node. */
export interface DeviceIO {
  now(): number;
  send(to: number, msg: unknown): void;
  recv(from: number): Promise<any>;
  /** A step is done (progress; throws to cancel). */
  step(step: number): void;
  /** Bytes of array buffers this device's thread holds now (workers only: measured, not counted). */
  arrayBufferBytes?(): number;
}

/** What a device hands back: its rows of O, its counts, and its spans (see devices.ts DeviceReport). */
export interface DeviceResult {
  device: number;
  peakBytes: number;
  bytesSent: number;
  spans: number[];
  out: Float32Array;
  entries: number;
  /** Ring: one block's transfer with nothing to hide it behind (ms). */
  transferMs: number;
  /** Measured: the most array-buffer bytes its thread held above where it started, plus its kernel's wasm memory in use. */
  measuredPeakBytes?: number;
  kernelWasmBytes: number;
}

/**
 * A K/V block: [Hkv, cols, D] keys, [Hkv, cols, Dv] values, at key positions kpos. Only k and v
 * travel (and ring's first position): the receiver knows which positions a peer's block holds.
 */
export interface Block {
  k: Float32Array;
  v: Float32Array;
  kpos: Int32Array;
  cols: number;
}

/** What travels round the ring: a block without its positions (they are kPos0 + stride·j). */
export interface RingWire {
  k: Float32Array;
  v: Float32Array;
  cols: number;
  kPos0: number;
  /** 1 for a contiguous shard; the device count for a striped one (positions ≡ device mod n). */
  stride: number;
  /** The transfer probe: when the sender posted it (epoch ms). */
  sentAt?: number;
}

const ringBlock = (w: RingWire): Block => ({ k: w.k, v: w.v, cols: w.cols, kpos: Int32Array.from({ length: w.cols }, (_, j) => w.kPos0 + w.stride * j) });
const ringWire = (b: Block, sentAt?: number): RingWire => ({ k: b.k, v: b.v, cols: b.cols, kPos0: b.cols ? b.kpos[0]! : 0, stride: b.cols > 1 ? b.kpos[1]! - b.kpos[0]! : 1, sentAt });

/** Running online-softmax state of `rows` rows (all heads): m, ℓ and the unnormalised output. */
interface RowState {
  m: Float64Array;
  l: Float64Array;
  acc: Float64Array;
}

const newState = (rows: number, Dv: number): RowState => ({ m: new Float64Array(rows).fill(-Infinity), l: new Float64Array(rows), acc: new Float64Array(rows * Dv) });
const stateBytes = (s: RowState) => s.m.byteLength + s.l.byteLength + s.acc.byteLength;

/** Folds a block's partial result for one row (output o, normalised, with log-sum-exp lse) into the state. */
function foldRow(s: RowState, row: number, Dv: number, o: ArrayLike<number>, oAt: number, lse: number): void {
  if (lse === -Infinity) return;
  const mNew = Math.max(s.m[row]!, lse);
  const corr = Math.exp(s.m[row]! - mNew);
  const w = Math.exp(lse - mNew);
  for (let c = 0; c < Dv; c++) s.acc[row * Dv + c] = s.acc[row * Dv + c]! * corr + w * o[oAt + c]!;
  s.l[row] = s.l[row]! * corr + w;
  s.m[row] = mNew;
}

/** O = acc / ℓ (0 where a row saw no key). */
function finish(s: RowState, rows: number, Dv: number, out: Float32Array, outAt: number): void {
  for (let row = 0; row < rows; row++)
    for (let c = 0; c < Dv; c++) out[outAt + row * Dv + c] = s.l[row]! > 0 ? s.acc[row * Dv + c]! / s.l[row]! : 0;
}

interface Geometry {
  H: number;
  Hkv: number;
  /** Query rows (per head) and their absolute positions. */
  rows: number;
  qpos: Int32Array;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
  /** LongNet: keys count only within the query's segment of this length. */
  segment?: number;
}

const CAUSAL: BandRule = { gcol: 0, grow: 0, lo: POS_INF, hi: 0 };

/**
 * Folds block b into the state for q ([H, rows, D]) and returns the score entries computed and
 * the kernel's wasm bytes in use (0 for 'js'). Masked pairs: causal (j > i) and, with a segment,
 * keys outside the query's segment.
 */
async function attend(kernel: DeviceKernel, q: Float32Array, b: Block, s: RowState, g: Geometry, scores: Float64Array): Promise<{ entries: number; wasmBytes: number }> {
  const { H, Hkv, rows, qpos, D, Dv, scale, causal, segment } = g;
  const seg = (x: number) => (segment ? Math.floor(x / segment) : 0);
  let entries = 0;
  for (let r = 0; r < rows; r++) {
    const i = qpos[r]!;
    for (let j = 0; j < b.cols; j++) if ((!causal || b.kpos[j]! <= i) && seg(b.kpos[j]!) === seg(i)) entries++;
  }
  entries *= H;
  if (!entries) return { entries, wasmBytes: 0 };
  if (kernel === 'wasm') {
    const spec: FusedAttentionSpec = { q, k: b.k, v: b.v, H, Hkv, Tq: rows, Tk: b.cols, D, Dv, scale, qpos, kpos: b.kpos, bands: causal ? [CAUSAL] : [] };
    if (segment) {
      const qs = Int32Array.from(qpos, seg);
      const ks = Int32Array.from(b.kpos, seg);
      spec.intervals = [{ qa: qs, qb: qs, ka: ks, kb: ks }];
    }
    // One thread: the device is one worker (several devices already share the machine's cores).
    const res = await fusedAttention(spec, { threads: 1 });
    for (let row = 0; row < H * rows; row++) foldRow(s, row, Dv, res.out, row * Dv, res.lse[row]!);
    return { entries, wasmBytes: res.bytes };
  }
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / Hkv));
    for (let r = 0; r < rows; r++) {
      const i = qpos[r]!;
      const qo = (h * rows + r) * D;
      let max = -Infinity;
      for (let j = 0; j < b.cols; j++) {
        if ((causal && b.kpos[j]! > i) || seg(b.kpos[j]!) !== seg(i)) {
          scores[j] = -Infinity;
          continue;
        }
        const ko = (kh * b.cols + j) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qo + d]! * b.k[ko + d]!;
        scores[j] = dot * scale;
        if (scores[j]! > max) max = scores[j]!;
      }
      if (max === -Infinity) continue;
      const row = h * rows + r;
      const mNew = Math.max(s.m[row]!, max);
      const corr = Math.exp(s.m[row]! - mNew);
      const ao = row * Dv;
      for (let c = 0; c < Dv; c++) s.acc[ao + c] = s.acc[ao + c]! * corr;
      let sum = 0;
      for (let j = 0; j < b.cols; j++) {
        if (scores[j] === -Infinity) continue;
        const p = Math.exp(scores[j]! - mNew);
        sum += p;
        const vo = (kh * b.cols + j) * Dv;
        for (let c = 0; c < Dv; c++) s.acc[ao + c] = s.acc[ao + c]! + p * b.v[vo + c]!;
      }
      s.l[row] = s.l[row]! * corr + sum;
      s.m[row] = mNew;
    }
  }
  return { entries, wasmBytes: 0 };
}

/** Counted bytes (live, peak) and measured bytes (array buffers above the start, kernel wasm) of one device. */
class Memory {
  live = 0;
  peak = 0;
  private base: number;
  measured = 0;
  wasm = 0;
  /** `inputs`: bytes of the arrays the job arrived with (already in the thread's array buffers: they are cloned, not transferred). */
  constructor(private io: DeviceIO, inputs: number) {
    this.base = (io.arrayBufferBytes?.() ?? 0) - inputs;
  }
  hold(bytes: number) {
    this.live += bytes;
    if (this.live > this.peak) this.peak = this.live;
  }
  drop(bytes: number) {
    this.live -= bytes;
  }
  /** A kernel call used this much wasm memory (the memory stays the worker's: wasm memory never shrinks). */
  kernel(wasmBytes: number) {
    if (wasmBytes > this.wasm) this.wasm = wasmBytes;
    this.hold(wasmBytes);
    this.drop(wasmBytes);
  }
  /**
   * Reads the thread's array buffers (after a full collection, in a worker: a few ms, so only at the
   * points where a device holds most) plus the most wasm memory its kernel has used.
   */
  sample() {
    if (this.io.arrayBufferBytes) this.measured = Math.max(this.measured, this.io.arrayBufferBytes() - this.base + this.wasm);
  }
  get measuredPeak() {
    return this.io.arrayBufferBytes ? this.measured : undefined;
  }
}

const blockBytes = (b: Block) => b.k.byteLength + b.v.byteLength + b.kpos.byteLength;

// ---- ring attention ----

export interface RingJob {
  program: 'ring';
  kernel: DeviceKernel;
  device: number;
  devices: number;
  H: number;
  Hkv: number;
  rows: number;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
  /** Absolute positions of the shard's query rows: qPos0 + qStride·r. */
  qPos0: number;
  qStride: number;
  q: Float32Array;
  /** Its own K/V shard. */
  own: RingWire;
  /** Columns of the largest block (score scratch). */
  maxCols: number;
}

/**
 * One ring device: `devices` steps of send-then-compute, then O = acc / ℓ. At step s it holds the
 * block of device (d − s) mod n; it posts that block to d + 1 before computing on it (double
 * buffering). Memory is counted from the byte lengths of what it holds: the query shard, the
 * running state, the score row, the block it computes on and, from its arrival until the current
 * block is released, the next one.
 */
export async function runRingDevice(io: DeviceIO, job: RingJob): Promise<DeviceResult> {
  const { H, rows, Dv, devices, device } = job;
  const next = (device + 1) % devices;
  const prev = (device + devices - 1) % devices;
  const mem = new Memory(io, job.q.byteLength + job.own.k.byteLength + job.own.v.byteLength);
  const spans: number[] = [];
  const s = newState(H * rows, Dv);
  const scores = new Float64Array(job.kernel === 'js' ? Math.max(1, job.maxCols) : 1);
  const g: Geometry = { ...job, qpos: Int32Array.from({ length: rows }, (_, r) => job.qPos0 + job.qStride * r) };
  let block = ringBlock(job.own);
  mem.hold(job.q.byteLength + g.qpos.byteLength + blockBytes(block) + stateBytes(s) + scores.byteLength);
  let bytesSent = 0;
  let entries = 0;
  // Before the ring starts, one block's transfer measured bare: every device posts a copy of its
  // block and waits for its neighbour's; the transfer runs from when both were ready (the later of
  // the neighbour's post and this device's wait) to its receipt. Compared with the waits below, it
  // says how much of the communication the compute hid.
  let transferMs = 0;
  if (devices > 1) {
    const t = io.now();
    io.send(next, ringWire(block, t));
    const probe = (await io.recv(prev)) as RingWire;
    transferMs = io.now() - Math.max(t, probe.sentAt ?? t);
    mem.hold(probe.k.byteLength + probe.v.byteLength);
    mem.drop(probe.k.byteLength + probe.v.byteLength);
  }
  for (let step = 0; step < devices; step++) {
    const last = step === devices - 1;
    if (!last) {
      const t = io.now();
      io.send(next, ringWire(block));
      spans.push(1, step, t, io.now());
      bytesSent += block.k.byteLength + block.v.byteLength;
    }
    const t = io.now();
    const r = await attend(job.kernel, job.q, block, s, g, scores);
    entries += r.entries;
    spans.push(0, step, t, io.now());
    mem.kernel(r.wasmBytes);
    if (!last) {
      const w = io.now();
      const nextBlock = ringBlock((await io.recv(prev)) as RingWire);
      spans.push(2, step, w, io.now());
      mem.hold(blockBytes(nextBlock));
      mem.sample(); // the peak: the block it computed on and the next one
      mem.drop(blockBytes(block));
      block = nextBlock;
    }
    io.step(step);
  }
  mem.drop(blockBytes(block) + job.q.byteLength);
  const out = new Float32Array(H * rows * Dv);
  mem.hold(out.byteLength);
  finish(s, H * rows, Dv, out, 0);
  mem.sample();
  return { device, peakBytes: mem.peak, bytesSent, spans, out, entries, transferMs, measuredPeakBytes: mem.measuredPeak, kernelWasmBytes: mem.wasm };
}

// ---- LongNet's distributed dilated attention ----

export interface DilatedJob {
  program: 'dilated';
  kernel: DeviceKernel;
  device: number;
  devices: number;
  H: number;
  Hkv: number;
  /** Positions per device; the chunk is [device·c, (device + 1)·c). */
  c: number;
  T: number;
  /** First query position (queries are the last Tq positions). */
  off: number;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
  /** (w, r) pairs. */
  pairs: [number, number][];
  /** Query rows of the chunk ([H, qRows, D], positions max(device·c, off)…), and its K, V ([Hkv, c, ·]). */
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/**
 * One LongNet device. For each head and (w, r) pair (one step each): it keeps every r-th position
 * of its chunk (from the head's offset h mod r) and packs those rows of K and V; where the segment
 * spans several devices (w > c) it sends them to the other devices of the segment and gathers
 * theirs — the all-gather — then attends from its kept queries to the keys of their segment, and
 * folds the pair into the row's state by log-sum-exp (the pairs' softmax denominators).
 */
export async function runDilatedDevice(io: DeviceIO, job: DilatedJob): Promise<DeviceResult> {
  const { device: d, devices: n, H, Hkv, c, T, off, D, Dv, scale, causal } = job;
  const first = Math.max(d * c, off);
  const qRows = Math.max(0, (d + 1) * c - first);
  const mem = new Memory(io, job.q.byteLength + job.k.byteLength + job.v.byteLength);
  const spans: number[] = [];
  const out = new Float32Array(H * qRows * Dv);
  mem.hold(job.q.byteLength + job.k.byteLength + job.v.byteLength + out.byteLength);
  let bytesSent = 0;
  let entries = 0;
  const pairs = job.pairs.length;
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / Hkv));
    const s = newState(qRows, Dv);
    mem.hold(stateBytes(s));
    for (let pk = 0; pk < pairs; pk++) {
      const step = h * pairs + pk;
      const [w, r] = job.pairs[pk]!;
      const W = Math.min(w, T);
      const o = h % r;
      const keptOf = (e: number) => {
        const kept: number[] = [];
        for (let x = e * c; x < (e + 1) * c; x++) {
          const t = (x % W) - o;
          if (t >= 0 && t % r === 0) kept.push(x);
        }
        return kept;
      };
      const kept = keptOf(d);
      // This device's sparse share: its kept rows of K and V for the head's kv group.
      const t0 = io.now();
      const own: Block = { k: new Float32Array(kept.length * D), v: new Float32Array(kept.length * Dv), kpos: Int32Array.from(kept), cols: kept.length };
      kept.forEach((x, a) => {
        own.k.set(job.k.subarray((kh * c + x - d * c) * D, (kh * c + x - d * c + 1) * D), a * D);
        own.v.set(job.v.subarray((kh * c + x - d * c) * Dv, (kh * c + x - d * c + 1) * Dv), a * Dv);
      });
      mem.hold(blockBytes(own));
      let keys = own;
      if (W > c) {
        const g0 = Math.floor((d * c) / W) * (W / c);
        const g1 = Math.min(n, g0 + W / c);
        for (let e = g0; e < g1; e++)
          if (e !== d) {
            io.send(e, { k: own.k, v: own.v });
            bytesSent += own.k.byteLength + own.v.byteLength;
          }
        spans.push(1, step, t0, io.now());
        const tw = io.now();
        // The gathered keys of the segment, in position order; each peer's share is copied in as it arrives.
        const kposOf = Array.from({ length: g1 - g0 }, (_, x) => (g0 + x === d ? own.kpos : Int32Array.from(keptOf(g0 + x))));
        const cols = kposOf.reduce((a, x) => a + x.length, 0);
        keys = { k: new Float32Array(cols * D), v: new Float32Array(cols * Dv), kpos: new Int32Array(cols), cols };
        mem.hold(blockBytes(keys));
        let at = 0;
        for (let e = g0; e < g1; e++) {
          const kpos = kposOf[e - g0]!;
          const b = e === d ? own : { ...((await io.recv(e)) as { k: Float32Array; v: Float32Array }), kpos, cols: kpos.length };
          if (e !== d) mem.hold(blockBytes(b));
          keys.k.set(b.k, at * D);
          keys.v.set(b.v, at * Dv);
          keys.kpos.set(kpos, at);
          at += kpos.length;
          if (e !== d) mem.drop(blockBytes(b));
        }
        mem.sample();
        spans.push(2, step, tw, io.now());
      }
      // Attend from this device's kept query rows to the gathered keys of their segment.
      const tc = io.now();
      const rows = kept.filter((x) => x >= off);
      const q = new Float32Array(rows.length * D);
      rows.forEach((x, a) => q.set(job.q.subarray((h * qRows + x - first) * D, (h * qRows + x - first + 1) * D), a * D));
      const part = newState(rows.length, Dv);
      const scores = new Float64Array(job.kernel === 'js' ? Math.max(1, keys.cols) : 1);
      const scratch = q.byteLength + stateBytes(part) + scores.byteLength;
      mem.hold(scratch);
      const res = await attend(job.kernel, q, keys, part, { H: 1, Hkv: 1, rows: rows.length, qpos: Int32Array.from(rows), D, Dv, scale, causal, segment: W }, scores);
      entries += res.entries;
      // The pair's rows, folded into the head's running state by their log-sum-exp.
      const oRow = new Float64Array(Dv);
      rows.forEach((x, a) => {
        if (part.l[a]! > 0) {
          for (let e = 0; e < Dv; e++) oRow[e] = part.acc[a * Dv + e]! / part.l[a]!;
          foldRow(s, x - first, Dv, oRow, 0, part.m[a]! + Math.log(part.l[a]!));
        }
      });
      spans.push(0, step, tc, io.now());
      mem.kernel(res.wasmBytes);
      mem.drop(scratch + blockBytes(own) + (keys !== own ? blockBytes(keys) : 0));
      io.step(step);
    }
    finish(s, qRows, Dv, out, h * qRows * Dv);
    mem.sample();
    mem.drop(stateBytes(s));
  }
  return { device: d, peakBytes: mem.peak, bytesSent, spans, out, entries, transferMs: 0, measuredPeakBytes: mem.measuredPeak, kernelWasmBytes: mem.wasm };
}

export type DeviceJob = RingJob | DilatedJob;

export function runDeviceJob(io: DeviceIO, job: DeviceJob): Promise<DeviceResult> {
  return job.program === 'ring' ? runRingDevice(io, job) : runDilatedDevice(io, job);
}
