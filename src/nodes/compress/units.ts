// Lexical units over tokens, for compressors that keep or drop whole units. A unit is a span of the
// text; a token belongs to the unit holding its first non-space character (whitespace-only tokens and
// empty-span tokens belong to the unit they start in), so whitespace goes with the unit before it and
// " the" goes with "the". Unit ids are 0, 1, 2, … in text order, and every id has at least one token.
import type { TokensValue } from '../../engine/values.js';

export type UnitKind = 'token' | 'phrase' | 'sentence';

/**
 * Phrase chunks in the manner of RAKE (Rose et al. 2010): stop words and punctuation delimit phrases;
 * a maximal run of content words is one unit, each stop word and each punctuation mark is its own.
 * A dependency-free stand-in for the spaCy noun chunks that Selective Context used.
 */
export const STOP_WORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but by
  can could did do does doing down during each few for from further had has have having he her here hers herself him
  himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
  our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
  these they this those through to too under until up very was we were what when where which while who whom why will
  with would you your yours yourself yourselves shall may might must also yet upon unto thus thou thee thy ye o oh well
  said like really actually basically just quite rather indeed perhaps`.split(/\s+/).filter(Boolean),
);

const WORD_OR_MARK = /[\p{L}\p{N}\p{M}_'’]+|[^\s\p{L}\p{N}\p{M}_'’]/gu;

/** Character positions where a phrase unit starts. */
export function phraseStarts(text: string): number[] {
  const starts: number[] = [];
  let inRun = false;
  for (const m of text.matchAll(WORD_OR_MARK)) {
    const w = m[0];
    const isWord = /[\p{L}\p{N}]/u.test(w);
    const content = isWord && !STOP_WORDS.has(w.toLowerCase().replace(/’/g, "'"));
    if (!(content && inRun)) starts.push(m.index);
    inRun = content;
  }
  return starts;
}

/**
 * Character positions where a sentence starts: after . ! ? … followed by a space, after 。！？, at a blank
 * line, and at a line break followed by a line that does not start with a lowercase letter (so list
 * items and headings are sentences, while hard-wrapped prose is not cut at every line).
 */
export function sentenceStarts(text: string): number[] {
  const starts: number[] = [];
  const firstNonSpace = (from: number) => {
    const m = /\S/g;
    m.lastIndex = from;
    return m.exec(text)?.index;
  };
  const first = firstNonSpace(0);
  if (first !== undefined) starts.push(first);
  const END = /[.!?…]+["'”’)\]]*(?=\s)|[。！？]+|\n[ \t]*\n|\n(?=[ \t]*[^\s\p{Ll}])/gu;
  for (const m of text.matchAll(END)) {
    const next = firstNonSpace(m.index + m[0].length);
    if (next !== undefined && next > starts[starts.length - 1]!) starts.push(next);
  }
  return starts;
}

/** Blocks separated by blank lines (a line break, optional spaces, a line break). */
export function blockStarts(text: string): number[] {
  const starts: number[] = [];
  const re = /\S/g;
  const first = re.exec(text);
  if (first) starts.push(first.index);
  for (const m of text.matchAll(/\n[ \t\r]*\n\s*/g)) {
    const next = m.index + m[0].length;
    if (next < text.length && next > (starts[starts.length - 1] ?? -1)) starts.push(next);
  }
  return starts;
}

/** Assigns each token to the span (from `starts`) holding its first non-space character; ids are compacted. */
export function unitsFromStarts(tokens: TokensValue, starts: readonly number[]): { unitOf: Int32Array; count: number } {
  const T = tokens.ids.length;
  const unitOf = new Int32Array(T);
  const { text, offsets } = tokens;
  // Tokens before the first start (leading whitespace) go with the first unit.
  let span = 0;
  let lastSpan = 0;
  let count = 0;
  for (let t = 0; t < T; t++) {
    const s = offsets[2 * t]!;
    const e = offsets[2 * t + 1]!;
    let anchor = s;
    while (anchor < e && /\s/.test(text[anchor]!)) anchor++;
    if (anchor === e) anchor = s; // whitespace only, or an empty span: where it starts
    while (span + 1 < starts.length && starts[span + 1]! <= anchor) span++;
    if (span !== lastSpan) {
      count++;
      lastSpan = span;
    }
    unitOf[t] = count;
  }
  return { unitOf, count: T > 0 ? count + 1 : 0 };
}

export function tokenUnits(tokens: TokensValue, unit: UnitKind): { unitOf: Int32Array; count: number } {
  if (unit === 'token') {
    const T = tokens.ids.length;
    return { unitOf: Int32Array.from({ length: T }, (_, i) => i), count: T };
  }
  const starts = unit === 'phrase' ? phraseStarts(tokens.text) : sentenceStarts(tokens.text);
  return unitsFromStarts(tokens, starts);
}
