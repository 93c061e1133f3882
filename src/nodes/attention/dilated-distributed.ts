// LongNet's distributed dilated attention (Ding et al. 2023, §3.2). The sequence is cut into
// `devices` equal chunks, one per device, each holding its chunk's Q, K and V. For each (w, r) pair
// and head: where a segment fits in a chunk (w ≤ T/devices) the segment's attention is local; where
// it spans several devices, each of them sparsifies its keys and values (every r-th position, the
// head's offset) and the group all-gathers them — only T/(devices·r) rows per device travel, not
// T/devices — then each device attends from its own kept queries to the gathered keys. The pairs
// are merged per row by their softmax denominators (log-sum-exp), exactly as the single-device
// `dilated` variant does, so the output is the same.
//
// Where the engine runs in Node each device is a worker_thread with its own heap (and, on the wasm
// backend, its own instance of the fused wasm kernel, which returns each row's log-sum-exp for the
// merge); the all-gather is a message from each device to each peer of its segment, counted in
// bytes. Elsewhere (the browser's engine worker) the same device program runs in-process, devices
// taking turns. The device program is runDilatedDevice (device-programs.ts).
import { z } from 'zod';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { RunContext } from '../../engine/node.js';
import type { MetricsValue } from '../../engine/values.js';
import { commonParams, defineVariant, scaleOf, type AttentionInputs } from './common.js';
import { dilated, dilatedPattern, geometry } from './dilated.js';
import { deviceKernel, deviceMetrics, epochMs, runDevices } from './devices.js';
import type { DilatedJob } from './device-programs.js';
import type { AttentionShape } from './reference.js';

const params = z
  .object({
    variant: z.literal('dilated-distributed'),
    ...commonParams,
    segmentLengths: z.array(z.number().int().min(1).max(1 << 22)).min(1).max(16).default([64, 256, 1024]).describe('segment length w of each pair'),
    dilationRates: z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([1, 2, 4]).describe('dilation rate r of each pair'),
    devices: z.number().int().min(1).max(64).default(4).describe('simulated devices, each holding T/devices positions (one worker_thread each where the engine runs in Node)'),
    transport: z
      .enum(['auto', 'in-process'])
      .default('auto')
      .describe("auto: a worker_thread per device where the engine runs in Node, else in-process; in-process: devices take turns on the engine's thread"),
  })
  .refine((p) => p.segmentLengths.length === p.dilationRates.length, {
    message: 'segmentLengths and dilationRates must have the same length (one (w, r) pair each)',
    path: ['dilationRates'],
  });

type P = z.output<typeof params>;

/** Refuses shapes LongNet's split does not cover, naming the param. */
function checkSplit(p: P, s: AttentionShape): number {
  const n = p.devices;
  if (s.Tk % n !== 0) throw new Error(`attention (dilated-distributed): params.devices = ${n} must divide the sequence length ${s.Tk}`);
  const c = s.Tk / n;
  p.segmentLengths.forEach((w, k) => {
    const W = Math.min(w, s.Tk);
    if (W % c !== 0 && c % W !== 0)
      throw new Error(`attention (dilated-distributed): params.segmentLengths[${k}] = ${w} must divide or be a multiple of the ${c} positions each of ${n} devices holds`);
  });
  return c;
}

/** Kept positions of one pair and head within [a, b). */
function keptIn(geo: ReturnType<typeof geometry>, a: number, b: number): number[] {
  const out: number[] = [];
  for (let x = a; x < b; x++) if (geo.kept(x)) out.push(x);
  return out;
}

const NO_BIAS = 'attention (dilated-distributed): the bias input is not supported; use dilated for biased attention';

/** Query rows device d answers for: its chunk's positions from the first query (Tk − Tq) on. */
const queryRows = (d: number, c: number, off: number) => Math.max(0, (d + 1) * c - Math.max(d * c, off));

/** Pairs of devices that share a segment of some (w, r) pair: the all-gather's links. */
function gatherLinks(p: P, T: number, c: number): [number, number][] {
  const links = new Map<string, [number, number]>();
  for (const w of p.segmentLengths) {
    const W = Math.min(w, T);
    if (W <= c) continue;
    const group = W / c;
    for (let g0 = 0; g0 < p.devices; g0 += group)
      for (let a = g0; a < Math.min(p.devices, g0 + group); a++) for (let b = a + 1; b < Math.min(p.devices, g0 + group); b++) links.set(`${a},${b}`, [a, b]);
  }
  return [...links.values()];
}

async function runOnDevices(ctx: RunContext, { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<{ out: Tensor; devices: MetricsValue }> {
  if (bias?.terms.length) throw new Error(NO_BIAS);
  const c = checkSplit(p, s);
  const n = p.devices;
  const { H, Hkv, Tq, Tk: T, D, Dv } = s;
  const off = T - Tq;
  const t0 = epochMs();
  const kernel = deviceKernel(ctx.backend);
  const rowsOf = (src: Float32Array, heads: number, Tn: number, width: number, a: number, b: number) => {
    const dst = new Float32Array(heads * (b - a) * width);
    for (let h = 0; h < heads; h++) dst.set(src.subarray((h * Tn + a) * width, (h * Tn + b) * width), h * (b - a) * width);
    return dst;
  };
  const jobs: DilatedJob[] = Array.from({ length: n }, (_, d) => {
    const first = Math.max(d * c, off);
    return {
      program: 'dilated',
      kernel,
      device: d,
      devices: n,
      H,
      Hkv,
      c,
      T,
      off,
      D,
      Dv,
      scale: scaleOf(p, D),
      causal: p.causal,
      pairs: p.segmentLengths.map((w, x) => [w, p.dilationRates[x]!] as [number, number]),
      q: rowsOf(q.data as Float32Array, H, Tq, D, first - off, first - off + queryRows(d, c, off)),
      k: rowsOf(k.data as Float32Array, Hkv, T, D, d * c, (d + 1) * c),
      v: rowsOf(v.data as Float32Array, Hkv, T, Dv, d * c, (d + 1) * c),
    };
  });
  const steps = H * p.segmentLengths.length;
  const { results, transport } = await runDevices(ctx, jobs, { transport: p.transport, links: gatherLinks(p, T, c), steps, what: 'attention (dilated-distributed)' });
  const devicesPeak = results.reduce((a, r) => a + r.peakBytes, 0);
  ctx.track(devicesPeak);
  ctx.release(devicesPeak);
  const out = new Float32Array(H * Tq * Dv);
  results.forEach((r, d) => {
    const rows = queryRows(d, c, off);
    const first = Math.max(d * c, off) - off;
    for (let h = 0; h < H; h++) out.set(r.out.subarray(h * rows * Dv, (h + 1) * rows * Dv), (h * Tq + first) * Dv);
  });
  const sent = results.reduce((a, r) => a + r.bytesSent, 0);
  const devices = deviceMetrics(results, t0, {
    transport,
    kernel,
    overlap:
      transport === 'worker_threads'
        ? 'none by design: a device posts its sparse share to its peers, then waits for theirs before it attends (the all-gather is a barrier); waitMs is what the gather cost beyond the posting'
        : 'none: simulated devices take turns on one thread; the all-gather is a copy between their buffers',
    steps,
    // Every send is one share delivered to one peer: what the all-gathers delivered is what was sent.
    extra: { gatheredBytes: sent },
  });
  return { out: f32([H, Tq, Dv], out, ['H', 'T', 'D']), devices };
}

/** Bytes device d holds at most, as runDilatedDevice counts them on the JS kernel (the cost model). */
function devicePeak(p: P, s: AttentionShape, d: number, c: number): number {
  const off = s.Tk - s.Tq;
  const rows = queryRows(d, c, off);
  const row = (s.D + s.Dv) * 4 + 4; // a K/V row and its position
  const base = rows * s.H * (s.D + s.Dv) * 4 + c * s.Hkv * (s.D + s.Dv) * 4 + rows * (2 + s.Dv) * 8;
  let most = 0;
  for (let h = 0; h < s.H; h++)
    p.segmentLengths.forEach((w, pk) => {
      const geo = geometry(w, p.dilationRates[pk]!, h, s.Tk);
      const own = keptIn(geo, d * c, (d + 1) * c);
      const queries = own.filter((x) => x >= off).length;
      let cols = own.length;
      let peer = 0;
      if (geo.W > c) {
        const first = Math.floor((d * c) / geo.W) * (geo.W / c);
        cols = 0;
        for (let e = first; e < Math.min(p.devices, first + geo.W / c); e++) {
          const kept = keptIn(geo, e * c, (e + 1) * c).length;
          cols += kept;
          if (e !== d) peer = Math.max(peer, kept);
        }
      }
      // Its sparse share, the gathered rows (while a peer's share is copied in), then its kept
      // queries, their partial state and a score row.
      const gather = geo.W > c ? cols * row + peer * row : 0;
      const attend = (geo.W > c ? cols * row : 0) + queries * s.D * 4 + queries * (2 + s.Dv) * 8 + Math.max(1, cols) * 8;
      most = Math.max(most, own.length * row + Math.max(gather, attend));
    });
  return base + most;
}

export const dilatedDistributed = defineVariant(params, {
  doc: {
    title: 'Dilated attention across devices (LongNet)',
    summary:
      "LongNet's distributed algorithm: each device holds T/devices positions; segments within a device attend locally, segments spanning devices all-gather their sparsified (every r-th) keys and values, counted in bytes on the `devices` output. Same output as `dilated`. Where the engine runs in Node each device is a worker_thread with its own memory (on the wasm backend computing on its own single-threaded instance of the fused wasm kernel); in the editor the devices run in-process, taking turns. The `devices` output gives each device's counted peak bytes (and, in workers, the measured array-buffer and wasm bytes), bytes sent and compute/send/wait lanes. Needs devices dividing T, each w dividing or a multiple of T/devices; bias inputs are refused.",
    formula: 'device d: K̃ₖ, Ṽₖ = all-gather over the devices of its segment of (every r-th row of K_d, V_d); Oₖ = softmax(Q̃ₖ,d K̃ₖᵀ·scale)·Ṽₖ; O = Σₖ sₖ·Oₖ / Σₖ sₖ',
    references: [{ title: 'LongNet: Scaling Transformers to 1,000,000,000 Tokens', year: 2023 }],
  },
  cost(s, p, cc) {
    // What run would refuse, refused when the pipeline compiles (validate says it too).
    if (cc?.bias) throw new Error(NO_BIAS);
    if (s.Tk > 0) checkSplit(p, s);
    const base = dilated.cost(s, { ...p, variant: 'dilated' });
    const c = Math.max(1, Math.floor(s.Tk / p.devices));
    let workspace = 0;
    for (let d = 0; d < p.devices; d++) workspace += devicePeak(p, s, d, c);
    return { flops: base.flops, workspaceBytes: workspace, bytesMoved: base.bytesMoved, note: `${p.devices} devices of ${c} positions` };
  },
  run: async (ctx, ins, p, s) => (await runOnDevices(ctx, ins, p, s)).out,
  runOnDevices,
  reference: (ins, p, s) => dilated.reference(ins, { ...p, variant: 'dilated' }, s),
  probe: (p, s) => ({ activation: 'softmax', pattern: dilatedPattern(p, s.Tk) }),
});
