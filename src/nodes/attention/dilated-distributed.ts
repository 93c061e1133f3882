// LongNet's distributed dilated attention (Ding et al. 2023, §3.2). The sequence is cut into
// `devices` equal chunks, one per device, each holding its chunk's Q, K and V. For each (w, r) pair
// and head: where a segment fits in a chunk (w ≤ T/devices) the segment's attention is local; where
// it spans several devices, each of them sparsifies its keys and values (every r-th position, the
// head's offset) and the group all-gathers them — only T/(devices·r) rows per device travel, not
// T/devices — then each device attends from its own kept queries to the gathered keys. The pairs
// are merged per row by their softmax denominators (log-sum-exp), exactly as the single-device
// `dilated` variant does, so the output is the same.
//
// The devices are simulated in-process, one after another on the engine's thread (no workers): the
// all-gather is a copy between per-device buffers, counted in bytes, and each device counts the
// bytes it holds.
import { z } from 'zod';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { RunContext } from '../../engine/node.js';
import type { MetricsValue } from '../../engine/values.js';
import { commonParams, defineVariant, groupOf, scaleOf, type AttentionInputs } from './common.js';
import { dilated, dilatedPattern, geometry } from './dilated.js';
import { deviceMetrics, epochMs, type DeviceReport } from './devices.js';
import type { AttentionShape } from './reference.js';

const params = z
  .object({
    variant: z.literal('dilated-distributed'),
    ...commonParams,
    segmentLengths: z.array(z.number().int().min(1).max(1 << 22)).min(1).max(16).default([64, 256, 1024]).describe('segment length w of each pair'),
    dilationRates: z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([1, 2, 4]).describe('dilation rate r of each pair'),
    devices: z.number().int().min(1).max(64).default(4).describe('simulated devices, each holding T/devices positions (simulated in-process, one after another)'),
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

/** Rows `pos` of head `head` of a [heads, T, width] array, packed. */
function pack(src: Float32Array, head: number, T: number, width: number, pos: number[]): Float32Array {
  const dst = new Float32Array(pos.length * width);
  pos.forEach((x, a) => dst.set(src.subarray((head * T + x) * width, (head * T + x + 1) * width), a * width));
  return dst;
}

interface Device {
  report: DeviceReport;
  live: number;
}

const hold = (dev: Device, bytes: number) => {
  dev.live += bytes;
  dev.report.peakBytes = Math.max(dev.report.peakBytes, dev.live);
};

const NO_BIAS = 'attention (dilated-distributed): the bias input is not supported; use dilated for biased attention';

async function runOnDevices(ctx: RunContext, { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<{ out: Tensor; devices: MetricsValue }> {
  if (bias?.terms.length) throw new Error(NO_BIAS);
  const c = checkSplit(p, s);
  const n = p.devices;
  const { H, Tq, Tk: T, D, Dv } = s;
  // Queries are the last Tq positions: a device answers for those in its chunk (maybe none).
  const off = T - Tq;
  const queryRows = (d: number) => Math.max(0, (d + 1) * c - Math.max(d * c, off));
  const scale = scaleOf(p, D);
  const t0 = epochMs();
  const qd = q.data as Float32Array;
  const kd = k.data as Float32Array;
  const vd = v.data as Float32Array;
  const out = new Float32Array(H * Tq * Dv);
  const pairs = p.segmentLengths.length;
  // Each device's own chunk of Q, K, V, its output rows and its running merge state (one head at a time).
  const devs: Device[] = Array.from({ length: n }, (_, d) => ({ report: { device: d, peakBytes: 0, bytesSent: 0, spans: [] }, live: 0 }));
  const stateBytes = c * (Dv + 2) * 8;
  devs.forEach((dev, d) => hold(dev, (queryRows(d) * H * (D + Dv) + c * s.Hkv * (D + Dv)) * 4 + stateBytes));
  const mRun = devs.map(() => new Float64Array(c));
  const lRun = devs.map(() => new Float64Array(c));
  const accRun = devs.map(() => new Float64Array(c * Dv));
  let gathered = 0;
  let entries = 0;
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    for (let d = 0; d < n; d++) {
      mRun[d]!.fill(-Infinity);
      lRun[d]!.fill(0);
      accRun[d]!.fill(0);
    }
    for (let pk = 0; pk < pairs; pk++) {
      ctx.checkCancelled();
      const step = h * pairs + pk;
      const geo = geometry(p.segmentLengths[pk]!, p.dilationRates[pk]!, h, T);
      const spans = geo.W > c;
      // Every device sparsifies its chunk's keys and values: the part it shares with its group.
      const kept = devs.map((_, d) => keptIn(geo, d * c, (d + 1) * c));
      const shared = devs.map((dev, d) => {
        const t = epochMs();
        const block = { pos: kept[d]!, k: pack(kd, g, T, D, kept[d]!), v: pack(vd, g, T, Dv, kept[d]!) };
        hold(dev, block.k.byteLength + block.v.byteLength);
        if (spans) {
          const peers = Math.min(n, (Math.floor((d * c) / geo.W) + 1) * (geo.W / c)) - Math.floor((d * c) / geo.W) * (geo.W / c) - 1;
          dev.report.bytesSent += peers * (block.k.byteLength + block.v.byteLength);
          dev.report.spans.push(1, step, t, epochMs());
        }
        return block;
      });
      for (let d = 0; d < n; d++) {
        const dev = devs[d]!;
        // The all-gather: this device's group's sparse K/V, in position order (its own part included).
        let keys = shared[d]!;
        if (spans) {
          const t = epochMs();
          const first = Math.floor((d * c) / geo.W) * (geo.W / c);
          const group = shared.slice(first, Math.min(n, first + geo.W / c));
          const rows = group.reduce((a, b) => a + b.pos.length, 0);
          keys = { pos: group.flatMap((b) => b.pos), k: new Float32Array(rows * D), v: new Float32Array(rows * Dv) };
          let at = 0;
          for (const b of group) {
            keys.k.set(b.k, at * D);
            keys.v.set(b.v, at * Dv);
            at += b.pos.length;
          }
          hold(dev, keys.k.byteLength + keys.v.byteLength);
          gathered += keys.k.byteLength + keys.v.byteLength - shared[d]!.k.byteLength - shared[d]!.v.byteLength;
          dev.report.spans.push(2, step, t, epochMs());
        }
        const t = epochMs();
        const scores = new Float64Array(keys.pos.length);
        hold(dev, scores.byteLength);
        const [m, l, acc] = [mRun[d]!, lRun[d]!, accRun[d]!];
        for (const i of kept[d]!) {
          if (i < off) continue;
          const seg = Math.floor(i / geo.W);
          let max = -Infinity;
          let cnt = 0;
          for (let x = 0; x < keys.pos.length; x++) {
            const j = keys.pos[x]!;
            if (Math.floor(j / geo.W) !== seg || (p.causal && j > i)) {
              scores[x] = -Infinity;
              continue;
            }
            let dot = 0;
            for (let e = 0; e < D; e++) dot += qd[(h * Tq + i - off) * D + e]! * keys.k[x * D + e]!;
            scores[x] = dot * scale;
            if (scores[x]! > max) max = scores[x]!;
            cnt++;
          }
          if (!cnt) continue;
          entries += cnt;
          // This pair's softmax for row i, merged into the row's running state by its denominator.
          const row = i - d * c;
          const mNew = Math.max(m[row]!, max);
          const cOld = Math.exp(m[row]! - mNew);
          for (let e = 0; e < Dv; e++) acc[row * Dv + e] *= cOld;
          let sum = 0;
          for (let x = 0; x < keys.pos.length; x++) {
            if (scores[x] === -Infinity) continue;
            const w = Math.exp(scores[x]! - mNew);
            sum += w;
            for (let e = 0; e < Dv; e++) acc[row * Dv + e] += w * keys.v[x * Dv + e]!;
          }
          l[row] = l[row]! * cOld + sum;
          m[row] = mNew;
        }
        dev.report.spans.push(0, step, t, epochMs());
        dev.live -= scores.byteLength + (keys !== shared[d] ? keys.k.byteLength + keys.v.byteLength : 0);
      }
      for (let d = 0; d < n; d++) devs[d]!.live -= shared[d]!.k.byteLength + shared[d]!.v.byteLength;
      ctx.progress((step + 1) / (H * pairs));
    }
    for (let d = 0; d < n; d++)
      for (let row = Math.max(0, off - d * c); row < c; row++)
        for (let e = 0; e < Dv; e++) out[(h * Tq + d * c + row - off) * Dv + e] = lRun[d]![row]! > 0 ? accRun[d]![row * Dv + e]! / lRun[d]![row]! : 0;
  }
  const reports = devs.map((dev) => dev.report);
  const devicesPeak = reports.reduce((a, r) => a + r.peakBytes, 0);
  ctx.track(devicesPeak);
  ctx.release(devicesPeak);
  const devices = deviceMetrics(reports, t0, {
    transport: 'in-process',
    overlap: 'none: simulated devices run one after another on one thread; the all-gather is a copy between their buffers',
    steps: H * pairs,
    extra: { gatheredBytes: gathered, scoreEntries: entries },
  });
  return { out: f32([H, Tq, Dv], out, ['H', 'T', 'D']), devices };
}

/** Bytes device d holds at most, as runOnDevices counts them. */
function devicePeak(p: P, s: AttentionShape, d: number, c: number): number {
  const queryRows = Math.max(0, (d + 1) * c - Math.max(d * c, s.Tk - s.Tq));
  const base = (queryRows * s.H * (s.D + s.Dv) + c * s.Hkv * (s.D + s.Dv)) * 4 + c * (s.Dv + 2) * 8;
  let most = 0;
  for (let h = 0; h < s.H; h++)
    p.segmentLengths.forEach((w, pk) => {
      const geo = geometry(w, p.dilationRates[pk]!, h, s.Tk);
      const own = keptIn(geo, d * c, (d + 1) * c).length;
      let rows = own;
      if (geo.W > c) {
        const first = Math.floor((d * c) / geo.W) * (geo.W / c);
        rows = 0;
        for (let e = first; e < Math.min(p.devices, first + geo.W / c); e++) rows += keptIn(geo, e * c, (e + 1) * c).length;
      }
      // Every device's packed share is alive while this device gathers; then the gathered rows and a score row.
      const packed = own * (s.D + s.Dv) * 4;
      most = Math.max(most, packed + (geo.W > c ? rows * (s.D + s.Dv) * 4 : 0) + rows * 8);
    });
  return base + most;
}

export const dilatedDistributed = defineVariant(params, {
  doc: {
    title: 'Dilated attention across devices (LongNet)',
    summary:
      "LongNet's distributed algorithm: each device holds T/devices positions; segments within a device attend locally, segments spanning devices all-gather their sparsified (every r-th) keys and values, counted in bytes on the `devices` output. Same output as `dilated`. The devices are simulated in-process, one after another (no workers); needs devices dividing T, each w dividing or a multiple of T/devices; bias inputs are refused.",
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
