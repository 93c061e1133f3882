// Number, size and shape formatting for overlays, labels and tables.
import { formatBytes } from '../../engine/compile/compile.js';
import { dtypeShort, type DType } from '../../engine/tensor.js';
import type { PortShape } from '../../engine/values.js';

export { formatBytes };

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(digits - 1);
  return String(+x.toPrecision(digits));
}

export function formatGflops(g: number | null | undefined): string {
  if (g === null || g === undefined || !Number.isFinite(g)) return '–';
  return g >= 100 ? g.toFixed(0) : g >= 1 ? g.toFixed(1) : g.toFixed(3);
}

/** Compact byte size for badges: "1.5M", "64K". */
export function formatBytesShort(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

const dims = (shape: readonly (number | null)[]) => shape.map((d) => (d === null ? '?' : String(d))).join('×');

/** An edge label: `8×4096×64 f32` for tensors; the kind and what is known for the others. */
export function formatPortShape(s: PortShape | undefined): string {
  if (!s) return '';
  switch (s.kind) {
    case 'tensor':
      return s.shape ? `${dims(s.shape)}${s.dtype ? ` ${dtypeShort(s.dtype as DType)}` : ''}` : 'tensor';
    case 'kv':
      return s.shape ? `kv ${dims(s.shape)}` : 'kv';
    case 'tokens':
      return s.shape ? `${dims(s.shape)} tokens` : 'tokens';
    default:
      return s.kind;
  }
}

export function formatValueShape(shape: readonly number[] | undefined, dtype?: string): string {
  if (!shape) return '';
  const d = dtype && ['float32', 'int32', 'uint8', 'uint32'].includes(dtype) ? ` ${dtypeShort(dtype as DType)}` : dtype ? ` ${dtype}` : '';
  return `${shape.length ? dims(shape) : 'scalar'}${d}`;
}
