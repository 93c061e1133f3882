// The `attention` node: one type, one variant per technique. Each variant lives in its own file and
// is listed in `variants` below; params, docs and dispatch derive from that list.
import { variantFamily, variantName } from '../../engine/variants.js';
import { defineNode, type AnyNodeDef } from '../../engine/node.js';
import { squeezeBatch, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { bigbird } from './bigbird.js';
import type { AttentionInputs, AttentionParams, AttentionVariant } from './common.js';
import { inferAttention } from './common.js';
import { webgpuAttentionNeeds } from '../../kernels/webgpu/attention.js';
import { DEVICE_METRIC_KEYS, deviceMetricsSchema } from './devices.js';
import { cosformer } from './cosformer.js';
import { dilated } from './dilated.js';
import { dilatedDistributed } from './dilated-distributed.js';
import { flashDecoding } from './flash-decoding.js';
import { flash } from './flash.js';
import { linear } from './linear.js';
import { linformer } from './linformer.js';
import { longformer } from './longformer.js';
import { naive } from './naive.js';
import { paged } from './paged-attention.js';
import { attentionProbe, attentionProbeReference, exactProbe, probeShape, PROBE_MAX } from './probe.js';
import { attentionDims } from './reference.js';
import { relu } from './relu.js';
import { ring } from './ring.js';
import { sima } from './sima.js';
import { slidingWindow } from './sliding-window.js';
import { soft } from './soft.js';
import { star } from './star.js';
import type { FamilyDef } from '../../engine/registry.js';

export const variants: AttentionVariant[] = [
  naive,
  flash,
  flashDecoding,
  slidingWindow,
  longformer,
  dilated,
  bigbird,
  linformer,
  linear,
  cosformer,
  relu,
  sima,
  soft,
  paged,
  star,
  ring,
  dilatedDistributed,
];

export type { AttentionParams };
const family = variantFamily<AttentionVariant, AttentionParams>(variants);
const { byName, params } = family;

/**
 * What each kernel holds on the backend beyond its own cost model's workspace — head uploads,
 * transposes, tiles a tidy keeps until it returns — as `perKv` copies of one kv head's K and V plus
 * `fixed` bytes. Measured on the cpu backend at T = 256 and 512 (src/nodes/memory-cases.test.ts
 * checks prediction ≥ measurement ≤ 1.5× it for every variant), with 10% to spare (cosFormer: its growth to T = 1024).
 */
const BACKEND_TEMPS: Record<string, { perKv: number; fixed: number }> = {
  flash: { perKv: 0, fixed: 47_104 },
  'flash-decoding': { perKv: 4.12, fixed: 109_568 },
  'sliding-window': { perKv: 0.55, fixed: 35_840 },
  longformer: { perKv: 0.55, fixed: 16_384 },
  dilated: { perKv: 5.62, fixed: 1_024 },
  bigbird: { perKv: 0.55, fixed: 131_072 },
  linformer: { perKv: 1.65, fixed: 207_872 },
  linear: { perKv: 0, fixed: 167_936 },
  cosformer: { perKv: 1.25, fixed: 123_904 },
  relu: { perKv: 0.55, fixed: 523_264 },
  sima: { perKv: 3.04, fixed: 31_744 },
  soft: { perKv: 2.35, fixed: 92_160 },
  paged: { perKv: 17.14, fixed: 144_384 },
};

/** Variants that compute exact softmax attention; every other one is compared with `flash` in the accuracy overlay. */
const EXACT_VARIANTS = new Set(['naive', 'flash', 'flash-decoding', 'paged', 'ring']);
/** Variants whose webgpu run goes through the fused kernel (they call runFused/kernelCall). */
const ON_FUSED_KERNEL = new Set(['flash', 'flash-decoding', 'paged', 'sliding-window', 'longformer', 'bigbird', 'dilated', 'relu']);

const implicit = variants.filter((v) => v.implicitMap).map(variantName);

/** Drops a leading batch of 1 from q, k, v. */
function heads(ins: AttentionInputs): AttentionInputs {
  return { ...ins, q: squeezeBatch(ins.q, 3), k: squeezeBatch(ins.k, 3), v: squeezeBatch(ins.v, 3) };
}

export const attention = defineNode({
  type: 'attention',
  family: 'attention',
  title: 'Attention',
  summary: 'Scaled dot-product attention over [H, T, D] tensors, with grouped-query K/V and structured bias; one variant per kernel.',
  references: family.references,
  params,
  variants: family.docs,
  inputs: {
    q: { kind: 'tensor', dims: ['H', 'T', 'D'], doc: 'queries (with fewer queries than keys, the last positions)' },
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'keys (Hkv divides H: grouped-query)' },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'values' },
    bias: { kind: 'bias', optional: true, doc: 'structured bias: ALiBi slopes, segment and streaming masks' },
    cache: { kind: 'kv', optional: true, doc: 'a KV cache, for variants that read K/V through its block table (paged)' },
  },
  outputs: {
    out: { kind: 'tensor', dims: ['H', 'T', 'D'] },
    devices: {
      kind: 'metrics',
      optional: true,
      metrics: deviceMetricsSchema,
      doc: 'variants across simulated devices (ring, dilated-distributed): transport, maxDevicePeakBytes, totalBytesSent, bytesSentPerStep (ring), gatheredBytes (dilated-distributed), perDevice[] (peak and bytes sent); timing: computeMs/sendMs/waitMs, transferMs (ring: one bare block transfer), perDevice[], steps[] and lanes[] (one Timeline row per device)',
    },
    probe: {
      kind: 'tensor',
      optional: true,
      dims: ['H', 'P', 'P'],
      doc:
        `attention map average-pooled to at most ${PROBE_MAX}×${PROBE_MAX} per head (computed only when connected): ` +
        `the variant's own weights, except ${implicit.join(', ')}, whose map is implicit: they show exact softmax attention's`,
    },
  },
  infer(ins, p) {
    const s = inferAttention(ins);
    return {
      out: tensorShape('float32', [s.H, s.Tq, s.Dv], ['H', 'T', 'D']),
      probe: tensorShape('float32', probeShape(s), ['H', 'P', 'P']),
      ...(byName.get(p.variant)?.runOnDevices ? { devices: { kind: 'metrics' as const, keys: DEVICE_METRIC_KEYS } } : {}),
    };
  },
  cost(ins, p) {
    const s = inferAttention(ins);
    const c = family.of(p).cost(s, p, { bias: ins.bias !== undefined });
    const t = BACKEND_TEMPS[p.variant];
    return t ? { ...c, workspaceBytes: c.workspaceBytes + t.perKv * s.Tk * (s.D + s.Dv) * 4 + t.fixed } : c;
  },
  // On webgpu these variants run on the WGSL fused kernel (fused-backends.ts); the compiler checks its needs against the adapter.
  adapterNeeds(ins, p) {
    if (!ON_FUSED_KERNEL.has(p.variant)) return undefined;
    return webgpuAttentionNeeds({ ...inferAttention(ins), splits: p.variant === 'flash-decoding' ? (p as { numSplits?: number }).numSplits : 1 });
  },
  async run(ctx, raw, p) {
    const ins = heads(raw);
    const variant = family.of(p);
    const s = attentionDims(ins.q, ins.k, ins.v);
    const onDevices = await variant.runOnDevices?.(ctx, ins, p, s);
    const out: Tensor = onDevices?.out ?? (await variant.run(ctx, ins, p, s));
    const devices = onDevices ? { devices: onDevices.devices } : {};
    if (!ctx.isConnected('probe')) return { out, ...devices };
    const probe = await attentionProbe(ctx, ins, p, s, variant.probe?.(p, s) ?? exactProbe);
    return { out, probe, ...devices };
  },
  exact: (p) =>
    EXACT_VARIANTS.has(p.variant)
      ? undefined
      : { kind: 'sibling', params: { variant: 'flash', causal: p.causal, ...(p.scale !== undefined ? { scale: p.scale } : {}) }, ports: ['out'] },
  reference(raw, p) {
    const ins = heads(raw);
    const variant = family.of(p);
    const s = attentionDims(ins.q, ins.k, ins.v);
    return {
      out: variant.reference(ins, p, s),
      probe: attentionProbeReference(ins, p, s, variant.probe?.(p, s) ?? exactProbe),
    };
  },
});

export const nodes: AnyNodeDef[] = [attention];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'attention', title: 'Attention kernels', color: '#2563eb' };
