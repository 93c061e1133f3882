import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type MetricsValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { packCodes, unpackCodes } from './common.js';
import { fromBf16Bits, fromHalfBits, toBf16Bits, toHalfBits } from './half.js';
import { quantize } from './index.js';
import { NF4_LEVELS } from './nf4.js';

const gauss = (shape: number[], seed: number, scale = 1) =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed).map((x) => x * scale));
const q = async (x: Tensor, p: Record<string, unknown>) => {
  const r = await runNode(quantize, { in: x }, p);
  return { out: (r.out as Tensor).data, codes: r.codes as Tensor, scales: r.scales as Tensor | undefined, m: (r.metrics as MetricsValue).values as Record<string, number> };
};

describe('bit packing', () => {
  it('packs 32/b codes per uint32, low bits first (3-bit: 10 per word)', () => {
    expect(Array.from(packCodes([1, 2, 3], 4))).toEqual([0x321]);
    expect(Array.from(packCodes([0, 1, 2, 3], 2))).toEqual([0b11100100]);
    expect(Array.from(packCodes([1, 2, 3, 4, 5], 8))).toEqual([0x04030201, 0x05]);
    expect(Array.from(packCodes(new Array(11).fill(7), 3))).toEqual([0x3fffffff, 7]);
    expect(Array.from(packCodes([0xffff, 0x1234], 16))).toEqual([0x1234ffff]);
    const codes = Array.from({ length: 23 }, (_, i) => (i * 5) % 8);
    expect(Array.from(unpackCodes(packCodes(codes, 3), 3, 23))).toEqual(codes);
  });
});

describe('quantize: group', () => {
  it('asymmetric 2-bit, by hand: s = (max − min)/3, q = round((x − min)/s), metrics', async () => {
    // min −1, max 2 → s = 1; (x − min)/s = 0, 1, 1.4, 3 → q = 0, 1, 1, 3 → x̂ = −1, 0, 0, 2.
    const r = await q(f32([4], [-1, 0, 0.4, 2]), { variant: 'group', bits: 2, groupSize: 32 });
    expectClose(r.out, [-1, 0, 0, 2], { atol: 0 });
    expect(Array.from(r.codes.data)).toEqual([0 | (1 << 2) | (1 << 4) | (3 << 6)]);
    expect(Array.from(r.scales!.data)).toEqual([1, -1]);
    expect(r.scales!.shape).toEqual([1, 1, 2]);
    // One uint32 of codes + a float32 scale and min = 12 bytes for 16 bytes of input.
    expect([r.m.bytesBefore, r.m.bytesAfter]).toEqual([16, 12]);
    expect(r.m.ratio).toBeCloseTo(4 / 3, 12);
    expect(r.m.mse).toBeCloseTo(0.16 / 4, 7);
    expect(r.m.maxAbs).toBeCloseTo(0.4, 7);
    expect(r.m.sqnrDb).toBeCloseTo(10 * Math.log10(5.16 / 0.16), 5); // 15.085 dB
  });

  it('rounds half to even', async () => {
    // s = 1, (x − min)/s = 0, 0.5, 2.5, 3 → q = 0, 0, 2, 3.
    const r = await q(f32([4], [0, 0.5, 2.5, 3]), { variant: 'group', bits: 2, groupSize: 32 });
    expectClose(r.out, [0, 0, 2, 3], { atol: 0 });
  });

  it('symmetric, by hand: s = absmax/(2^(b−1) − 1), codes offset by 2^(b−1)', async () => {
    // 4-bit: absmax 7 → s = 1; q = −7, −2 (−1.5 to even), 0, 4 (3.5 to even); codes q + 8.
    const r = await q(f32([4], [-7, -1.5, 0.2, 3.5]), { variant: 'group', bits: 4, groupSize: 32, symmetric: true });
    expectClose(r.out, [-7, -2, 0, 4], { atol: 0 });
    expect(Array.from(unpackCodes(r.codes.data as Uint32Array, 4, 4))).toEqual([1, 6, 8, 12]);
    expect(r.scales!.shape).toEqual([1, 1]);
    expect(r.m.bytesAfter).toBe(8);
    // 2-bit symmetric is ternary: s = absmax, q ∈ {−1, 0, 1}.
    const t = await q(f32([4], [-2, -0.5, 0.2, 1.2]), { variant: 'group', bits: 2, groupSize: 32, symmetric: true });
    expectClose(t.out, [-2, 0, 0, 2], { atol: 0 });
  });

  it('groups run along `axis`; scales are [rows, groups, (scale, min)]', async () => {
    // [64, 2], groups of 32 down each column. Column 0: i mod 16 then −(i mod 16); column 1: 2·(i mod 16) + 10.
    const x = f32([64, 2], Array.from({ length: 128 }, (_, e) => {
      const i = e >> 1;
      return e % 2 === 0 ? (i < 32 ? i % 16 : -(i % 16)) : 2 * (i % 16) + 10;
    }));
    const r = await q(x, { variant: 'group', bits: 4, groupSize: 32, axis: 0 });
    expect(r.scales!.shape).toEqual([2, 2, 2]);
    expect(Array.from(r.scales!.data)).toEqual([1, 0, 1, -15, 2, 10, 2, 10]);
    expect(r.m.mse).toBe(0); // every value sits on its group's grid
    expect(r.m.sqnrDb).toBe(Infinity);
    // 128 4-bit codes = 16 words; 4 groups × (scale, min).
    expect(r.m.bytesAfter).toBe(16 * 4 + 4 * 8);
  });

  it('matches the reference exactly on cpu, wasm and webgpu: every bit width, both modes, partial groups, axes', async () => {
    const x = gauss([3, 70, 5], 1, 2);
    for (const backend of ['cpu', 'wasm'] as const)
      for (const bits of [2, 3, 4, 8])
        for (const symmetric of [false, true])
          await expectParity(quantize, backend, { in: x }, { variant: 'group', bits, groupSize: 32, axis: 1, symmetric }, { atol: 0 });
    await expectParity(quantize, 'wasm', { in: x }, { variant: 'group', bits: 4, groupSize: 64, axis: -1 }, { atol: 0 });
    // webgpu (lavapipe in CI) divides exactly; WGSL allows 2.5 ulp, so a hardware GPU may move a value
    // that sits on a rounding boundary to the next code.
    for (const symmetric of [false, true])
      await expectParity(quantize, 'webgpu', { in: x }, { variant: 'group', bits: 4, groupSize: 32, axis: 1, symmetric }, { atol: 0 });
    await expectParity(quantize, 'cpu', { in: x }, { variant: 'group', bits: 3, groupSize: 128, axis: 0 }, { atol: 0 });
  });

  it('each extra bit cuts the error: int8 < int4 < int3 < int2, and byte ratios follow the bit widths', async () => {
    const x = gauss([64, 128], 3);
    const m: Record<number, Record<string, number>> = {};
    for (const bits of [2, 3, 4, 8]) m[bits] = (await q(x, { variant: 'group', bits, groupSize: 64 })).m;
    expect(m[8]!.mse).toBeLessThan(m[4]!.mse / 100);
    expect(m[4]!.mse).toBeLessThan(m[3]!.mse);
    expect(m[3]!.mse).toBeLessThan(m[2]!.mse);
    // 32·64 / (b·64 + 64) bits: 2-bit 32/3, 3-bit (10 per word) 8192 words… 4-bit 6.4, 8-bit 32/9.
    expect(m[2]!.ratio).toBeCloseTo(32 / 3, 10);
    expect(m[4]!.ratio).toBeCloseTo(6.4, 10);
    expect(m[8]!.ratio).toBeCloseTo(32 / 9, 10);
    expect(m[3]!.bytesAfter).toBe(Math.ceil(8192 / 10) * 4 + 128 * 8);
  });
});

describe('quantize: absmax-int8', () => {
  it('per tensor, by hand: s = absmax/127, codes are int8 two\'s complement', async () => {
    const r = await q(f32([4], [-127, 63.5, 1, 0.25]), { variant: 'absmax-int8' });
    expectClose(r.out, [-127, 64, 1, 0], { atol: 0 });
    expect(Array.from(r.codes.data)).toEqual([129, 64, 1, 0]);
    expect(r.codes.dtype).toBe('uint8');
    expect(r.m.bytesAfter).toBe(4 + 4);
  });

  it('per channel, by hand, and channelAxis picks the channel', async () => {
    // Columns: absmax 2 and 10. 1.5·127/2 = 95.25 → 95; 4·127/10 = 50.8 → 51.
    const x = f32([2, 2], [1.5, 10, -2, 4]);
    const r = await q(x, { variant: 'absmax-int8', granularity: 'channel' });
    expectClose(r.scales!.data, [2 / 127, 10 / 127], { atol: 1e-9 });
    expectClose(r.out, [(95 * 2) / 127, 10, -2, (51 * 10) / 127], { atol: 1e-6 });
    const xt = f32([2, 2], [1.5, -2, 10, 4]);
    const rt = await q(xt, { variant: 'absmax-int8', granularity: 'channel', channelAxis: 0 });
    expectClose(rt.out, [r.out[0]!, r.out[2]!, r.out[1]!, r.out[3]!], { atol: 0 });
  });

  it('matches the reference exactly on cpu, wasm and webgpu', async () => {
    const x = gauss([6, 9, 4], 2, 3);
    for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
      await expectParity(quantize, backend, { in: x }, { variant: 'absmax-int8' }, { atol: 0 });
      await expectParity(quantize, backend, { in: x }, { variant: 'absmax-int8', granularity: 'channel', channelAxis: 1 }, { atol: 0 });
    }
  });
});

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e−9). */
function normPpf(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: number[], x: number) => k.reduce((s, v) => s * x + v, 0);
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - 0.02425) return -normPpf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

describe('quantize: nf4', () => {
  it('its 16 levels are QLoRA\'s: normal quantiles at offset 0.9677083, normalised to [−1, 1], with an exact 0', () => {
    // QLoRA / bitsandbytes create_normal_map: 8 positive quantiles from linspace(offset, ½, 9)[:-1],
    // 7 negative from linspace(offset, ½, 8)[:-1], plus zero; divided by the largest.
    const offset = 0.9677083;
    const lin = (n: number) => Array.from({ length: n - 1 }, (_, i) => offset + ((0.5 - offset) * i) / (n - 1));
    const pos = lin(9).map(normPpf);
    const neg = lin(8).map((p) => -normPpf(p));
    const v = [...pos, 0, ...neg].sort((x, y) => x - y);
    const max = Math.max(...v);
    expectClose(NF4_LEVELS, v.map((x) => x / max), { atol: 2e-7 });
  });

  it('maps to the nearest level of x/absmax per block, by hand', async () => {
    // absmax 2 → x/2 = 1, −1, 0, 0.5, 0.08, −0.3 → levels 15, 0, 7, 12 (0.5 < midpoint 0.5017), 8, 4.
    const r = await q(f32([6], [2, -2, 0, 1, 0.16, -0.6]), { variant: 'nf4' });
    expect(Array.from(unpackCodes(r.codes.data as Uint32Array, 4, 6))).toEqual([15, 0, 7, 12, 8, 4]);
    expectClose(r.out, [2, -2, 0, 2 * NF4_LEVELS[12]!, 2 * NF4_LEVELS[8]!, 2 * NF4_LEVELS[4]!], { atol: 1e-6 });
    expect(Array.from(r.scales!.data)).toEqual([2]);
    expect([r.m.bytesBefore, r.m.bytesAfter]).toEqual([24, 8]);
  });

  it('matches the reference exactly on cpu, wasm and webgpu, with a partial last block', async () => {
    const x = gauss([5, 41], 4);
    for (const backend of ['cpu', 'wasm', 'webgpu'] as const) await expectParity(quantize, backend, { in: x }, { variant: 'nf4', blockSize: 64 }, { atol: 0 });
  });

  it('4.5 bits per value at block 64, and less error than absmax int4 of the same size on normal data', async () => {
    const x = gauss([64, 128], 5);
    const n = await q(x, { variant: 'nf4', blockSize: 64 });
    const i4 = await q(x, { variant: 'group', bits: 4, groupSize: 64, symmetric: true });
    expect(n.m.bitsPerValue).toBeCloseTo(4.5, 10);
    expect(i4.m.bitsPerValue).toBeCloseTo(4.5, 10);
    expect(n.m.mse).toBeLessThan(i4.m.mse);
  });
});

describe('quantize: fp16 and bf16', () => {
  it('fp16 bit patterns round to nearest even', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01],
      [-2, 0xc000], [0.1, 0x2e66], [1 / 3, 0x3555], [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [2 ** -14 - 2 ** -25, 0x0400],
      [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    ];
    for (const [x, bits] of cases) expect(toHalfBits(x), `fp16(${x})`).toBe(bits);
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    expect([0x3c00, 0x7bff, 0x0001, 0xc000, 0x3555].map(fromHalfBits)).toEqual([1, 65504, 2 ** -24, -2, 0.333251953125]);
  });

  it('bf16 bit patterns round to nearest even', () => {
    const cases: [number, number][] = [
      [1, 0x3f80], [1.00390625, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -20, 0x3f81], [0.1, 0x3dcd],
      [-1.5, 0xbfc0], [3.4028234663852886e38, 0x7f80], [-3.4028234663852886e38, 0xff80], [Infinity, 0x7f80], [-0, 0x8000],
    ];
    for (const [x, bits] of cases) expect(toBf16Bits(x), `bf16(${x})`).toBe(bits);
    expect(Number.isNaN(fromBf16Bits(toBf16Bits(NaN)))).toBe(true);
    expect([0x3f80, 0x3dcd, 0xbfc0].map(fromBf16Bits)).toEqual([1, 0.10009765625, -1.5]);
  });

  it('the nodes round, pack 2 codes per word, and report 2 bytes per value', async () => {
    const x = f32([3], [1 + 2 ** -11, 1 + 3 * 2 ** -11, -1.00390625]);
    const h = await q(x, { variant: 'fp16' });
    expectClose(h.out, [1, 1 + 2 ** -9, -1.00390625], { atol: 0 });
    expect(Array.from(h.codes.data)).toEqual([0x3c00 | (0x3c02 << 16), 0xbc04]);
    expect(h.scales).toBeUndefined();
    const b = await q(x, { variant: 'bf16' });
    expectClose(b.out, [1, 1, -1], { atol: 0 });
    const y = gauss([64, 64], 6);
    const hm = (await q(y, { variant: 'fp16' })).m;
    const bm = (await q(y, { variant: 'bf16' })).m;
    expect(hm.ratio).toBe(2);
    expect(hm.mse).toBeLessThan(bm.mse / 30); // 3 more mantissa bits: about 64× less squared error
  });
});

describe('quantize: ports and params', () => {
  it('infers shapes and names the input or param at fault', () => {
    const p = (x: object) => quantize.params.parse(x);
    const r = quantize.infer({ in: tensorShape('float32', [8, 96]) }, p({ variant: 'group', bits: 3, groupSize: 64 }));
    expect(r.codes?.shape).toEqual([Math.ceil(768 / 10)]);
    expect(r.scales?.shape).toEqual([8, 2, 2]);
    expect(quantize.infer({ in: tensorShape('float32', [8, 96]) }, p({ variant: 'fp16' })).scales).toBeUndefined();
    expect(() => quantize.infer({ in: tensorShape('float32', [8, 96]) }, p({ variant: 'group', axis: 2 }))).toThrow(/axis 2 is out of range/);
    expect(() => quantize.infer({ in: tensorShape('int32', [8]) }, p({ variant: 'nf4' }))).toThrow(/"in" expects float32/);
    expect(() => p({ variant: 'group', bits: 5 })).toThrow();
    expect(() => p({ variant: 'group', groupSize: 48 })).toThrow();
    expect(() => p({ variant: 'int3' })).toThrow();
  });

  it('the reference and run agree on metrics', () => {
    const x = gauss([10, 32], 9);
    const m = runReference(quantize, { in: x }, { variant: 'nf4' }).metrics as MetricsValue;
    expect(m.values.bytesBefore).toBe(1280);
  });
});
