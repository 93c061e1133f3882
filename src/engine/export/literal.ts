// TypeScript source text for JSON-like values: readable literals (bare keys, single quotes) that
// evaluate to exactly the value they were printed from.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A string literal, single-quoted unless the text holds single quotes and no double ones; escapes
 * what a literal cannot hold (newlines, lone surrogates).
 */
export function stringLiteral(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === q) out += `\\${q}`;
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) out += ch + s[++i]!;
    else if (c >= 0xd800 && c <= 0xdfff) out += `\\u${c.toString(16)}`; // a lone surrogate
    else out += ch;
  }
  return out + q;
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
