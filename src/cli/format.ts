// Plain-text tables and numbers for the terminal.
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Characters a terminal acts on or hides: C0/C1 controls (ESC starts a control sequence, a newline
 * could forge a "✓" line), DEL, line/paragraph separators and bidi controls.
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** The same class without /g, for the common case of a string with nothing to escape. */
const HAS_UNSAFE = new RegExp(TERMINAL_UNSAFE.source);

/**
 * Text from a pipeline (names, labels, ids, `why`, messages quoting them) as it may be printed: every
 * such character shown as an escape (`\n`, `\x1b`, `\u202e`), so the output is one line per line we write.
 */
export function terminalText(s: string): string {
  if (!HAS_UNSAFE.test(s)) return s;
  return s.replace(TERMINAL_UNSAFE, (ch) => {
    const c = ch.charCodeAt(0);
    return NAMED[ch] ?? (c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`);
  });
}

/** Each line of a multi-line text we composed, escaped (keeps our line breaks, not theirs inside a line). */
export function terminalLines(s: string): string {
  return s.split('\n').map(terminalText).join('\n');
}

export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => terminalText(String(c))))];
  const widths = header.map(() => 0);
  for (const r of cells) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c]!, (r[c] ?? '').length);
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (r: string[]) =>
    r.map((cell, c) => (a[c] === 'l' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '─'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** Bytes in MiB (2^20 bytes), the unit of every table: columns say "MiB". */
export function mib(bytes: number): string {
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

/**
 * Parses a size into bytes: binary units with an "i" (KiB, MiB, GiB, TiB: powers of 1024), decimal
 * ones without (kB, MB, GB, TB: powers of 1000), or a plain number of bytes ("1e9", "4096B").
 */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*(?:([kmgt])(i?)b|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read "${text}" as a size; use e.g. 8GiB, 512MiB (powers of 1024), 1GB, 500MB (powers of 1000) or bytes`);
  const pow = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.round(Number(m[1]) * (m[3] ? 1024 : 1000) ** pow);
}

/** A path as the user would type it: relative to the working folder when inside it, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(path);
}
