// Plain-text tables and numbers for the terminal.
import { isAbsolute, relative, resolve } from 'node:path';

export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (r: string[]) =>
    r.map((cell, c) => (a[c] === 'l' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '─'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 3 : 1);
}

export function ms(x: number): string {
  return x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0);
}

export function num(x: unknown): string {
  if (typeof x !== 'number') return JSON.stringify(x);
  if (Number.isInteger(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return String(+x.toPrecision(6));
}

/** Parses "512MB", "8GiB", "1e9" into bytes. */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9.]+(?:e[0-9]+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read "${text}" as a size (e.g. 512MB, 8GiB, 1e9)`);
  const unit = (m[2] ?? '').toLowerCase().replace(/i?b$/, '');
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit];
  if (pow === undefined) throw new Error(`unknown size unit in "${text}"`);
  const base = /i/i.test(m[2] ?? '') || !/b/i.test(m[2] ?? 'b') ? 1024 : 1000;
  return Number(m[1]) * base ** pow;
}

/** Least-squares slope of log(y) against log(x): the exponent of a power law. */
export function logLogSlope(xs: number[], ys: number[]): number | null {
  const pts = xs.map((x, i) => [x, ys[i]!] as const).filter(([x, y]) => x > 0 && y > 0);
  if (pts.length < 2) return null;
  const lx = pts.map(([x]) => Math.log(x));
  const ly = pts.map(([, y]) => Math.log(y));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my);
    den += (lx[i]! - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** A path as the user would type it: relative to the working folder when inside it, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
}
