// TypeScript source text for JSON-like values: readable literals (bare keys, single quotes) that
// evaluate to exactly the value they were printed from.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * What may not appear raw in generated source: backslashes and quotes (inside literals), line
 * terminators (a `//` comment ends at them), other C0/C1 controls, lone surrogates, and the invisible
 * bidi controls of "Trojan Source" (CVE-2021-42574), which make code read differently from how it
 * runs. `\uFEFF` is whitespace to a parser.
 */
const ESCAPE =
  /[\\'"\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The one escaping function for text from a pipeline (keys, ids, labels, names, notes, params) that
 * reaches generated code: inside a string literal quoted with `quote`, or inside a `//` comment
 * (no quote), where it can then neither end the comment nor hide anything from a reader.
 */
export function escapeSourceText(s: string, quote?: "'" | '"'): string {
  return s.replace(ESCAPE, (ch) => {
    if (ch === "'" || ch === '"') return ch === quote ? `\\${ch}` : ch;
    return NAMED[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A string literal, single-quoted unless the text holds single quotes and no double ones. */
export function stringLiteral(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + escapeSourceText(s, q) + q;
}

/** Text for a `//` comment: stays on its line and shows every invisible character as an escape. */
export function commentText(s: string): string {
  return escapeSourceText(s);
}

export function numberLiteral(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/** An object key: bare when it is an identifier name, computed for `__proto__` (a plain key would set the prototype). */
export function keyLiteral(k: string): string {
  if (k === '__proto__') return `['__proto__']`;
  return IDENT.test(k) ? k : stringLiteral(k);
}

/**
 * A literal for `value` at the given indentation: on one line when it fits in `width` characters,
 * else one entry per line. `undefined` entries in objects are left out, as JSON would.
 */
export function literal(value: unknown, indent = '', width = 100): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number') return numberLiteral(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    const inline = `[${value.map((v) => literal(v, '', Infinity)).join(', ')}]`;
    if (inline.length <= width && !inline.includes('\n')) return inline;
    const inner = indent + '  ';
    // Long arrays of numbers wrap like text rather than one number per line.
    if (value.every((v) => typeof v === 'number')) {
      const lines: string[] = [];
      let line = '';
      for (const v of value as number[]) {
        const item = `${numberLiteral(v)},`;
        if (line && inner.length + line.length + 1 + item.length > width + indent.length) (lines.push(line), (line = ''));
        line = line ? `${line} ${item}` : item;
      }
      lines.push(line);
      return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`;
    }
    return `[\n${value.map((v) => `${inner}${literal(v, inner, width)},`).join('\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (!entries.length) return '{}';
    const inline = `{ ${entries.map(([k, v]) => `${keyLiteral(k)}: ${literal(v, '', Infinity)}`).join(', ')} }`;
    if (inline.length <= width && !inline.includes('\n')) return inline;
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${keyLiteral(k)}: ${literal(v, inner, width)},`).join('\n')}\n${indent}}`;
  }
  throw new TypeError(`cannot write a ${typeof value} as a literal`);
}
