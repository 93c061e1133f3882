// Cache keys: FNV-1a over canonical JSON (params) and over raw bytes (volatile outputs).
import type { Value } from '../values.js';

const OFFSET = 0x811c9dc5;
const PRIME = 0x01000193;

function fnvString(s: string, h = OFFSET): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, PRIME);
  }
  return h >>> 0;
}

function fnvBytes(b: Uint8Array, h = OFFSET): number {
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, PRIME);
  }
  return h >>> 0;
}

/** JSON with sorted keys, so `{a, b}` and `{b, a}` hash alike. */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (ArrayBuffer.isView(v)) return `bytes:${hashBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))}`;
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** 64 bits as two independent 32-bit FNV lanes, hex. */
export function hashString(s: string): string {
  return fnvString(s).toString(16).padStart(8, '0') + fnvString(s, 0x01234567).toString(16).padStart(8, '0');
}

export function hashBytes(b: Uint8Array): string {
  return fnvBytes(b).toString(16).padStart(8, '0') + fnvBytes(b, 0x01234567).toString(16).padStart(8, '0');
}

export function hashValue(v: Value): string {
  // A model's weights are read lazily: its key is the config plus what identifies the weights, not their bytes.
  if (v.kind === 'model') {
    const w = v.weights;
    const id = w ? (w.fingerprint?.() ?? w.names().map((n) => [n, w.info(n)])) : null;
    return hashString(canonicalJson(['model', v.config, v.source ?? null, id]));
  }
  return hashString(canonicalJson(v));
}
