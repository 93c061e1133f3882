// Node search for the palette and quick add: entries ranked by how well the query matches, not by
// catalog order. A match on the entry's own title or id beats one on its aliases, which beats its
// family or parent node, which beats its summary; within a field an exact match beats a prefix, a
// whole word, a word prefix, a substring and a fuzzy (in-order letters) match.

export interface Searchable {
  /** The most specific name: a variant's title, or the node's. */
  title: string;
  /** Ids: the type and the variant, as written in pipeline files. */
  ids: string[];
  /** Aliases: acronyms, the short names papers give a technique. */
  aliases: string[];
  /** Broader context: the parent node's title for a variant, the family's title. */
  context: string[];
  /** Free text: the summary. */
  text: string;
}

// An exact id ("flash") outranks a title that merely starts with the query ("Flash-Decoding").
const FIELD = { title: 100, ids: 95, aliases: 75, context: 35, text: 15 } as const;
const TIER = { exact: 1, prefix: 0.85, word: 0.75, wordPrefix: 0.6, substring: 0.45, fuzzy: 0.3 } as const;

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
const words = (s: string): string[] => s.match(/[a-z0-9]+/g) ?? [];

/** How well `q` (normalised) matches `s`, 0..1. */
export function matchQuality(q: string, s: string, opts: { fuzzy?: boolean } = {}): number {
  const t = norm(s);
  if (!q || !t) return 0;
  if (t === q) return TIER.exact;
  if (t.startsWith(q)) return TIER.prefix;
  const ws = words(t);
  if (ws.includes(q)) return TIER.word;
  if (ws.some((w) => w.startsWith(q))) return TIER.wordPrefix;
  if (t.includes(q)) return TIER.substring;
  // "flash attention" names "FlashAttention"; "h 2 o" is not worth a rule.
  if (q.includes(' ') && t.replace(/[\s_-]/g, '') === q.replace(/ /g, '')) return TIER.exact * 0.95;
  if (opts.fuzzy && q.length >= 3) {
    const span = fuzzySpan(q.replace(/ /g, ''), t);
    // Tighter spans are better: "flsh" in "flash" beats the same letters spread over a sentence.
    if (span) return TIER.fuzzy * Math.min(1, (q.length + 1) / span);
  }
  return 0;
}

/** Length of the shortest stretch of `s` holding the letters of `q` in order (greedy from each start), or 0. */
function fuzzySpan(q: string, s: string): number {
  let best = 0;
  for (let start = s.indexOf(q[0]!); start >= 0; start = s.indexOf(q[0]!, start + 1)) {
    let i = 0;
    let j = start;
    for (; j < s.length && i < q.length; j++) if (s[j] === q[i]) i++;
    if (i < q.length) break;
    const span = j - start;
    if (!best || span < best) best = span;
  }
  return best;
}

/** Best weighted match of one query string over an entry's fields. */
function fieldScore(q: string, e: Searchable): number {
  let best = FIELD.title * matchQuality(q, e.title, { fuzzy: true });
  for (const n of e.ids) best = Math.max(best, FIELD.ids * matchQuality(q, n, { fuzzy: true }));
  for (const n of e.aliases) best = Math.max(best, FIELD.aliases * matchQuality(q, n));
  for (const c of e.context) best = Math.max(best, FIELD.context * matchQuality(q, c));
  return Math.max(best, FIELD.text * matchQuality(q, e.text));
}

/**
 * The score of an entry for a query (0: no match). The whole query is matched as a phrase; a query of
 * several words also matches when each word matches somewhere, scored by the weakest word.
 */
export function scoreEntry(query: string, e: Searchable): number {
  const q = norm(query);
  if (!q) return 0;
  const phrase = fieldScore(q, e);
  const terms = q.split(' ');
  if (terms.length === 1) return phrase;
  const perTerm = Math.min(...terms.map((t) => fieldScore(t, e)));
  return Math.max(phrase, perTerm * 0.9);
}

/** Entries that match, best first; ties keep the given (catalog) order. */
export function rank<T>(query: string, entries: readonly T[], searchable: (e: T) => Searchable): T[] {
  return entries
    .map((e, i) => ({ e, i, s: scoreEntry(query, searchable(e)) }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.e);
}

/**
 * Aliases a declaration implies: the short name a paper gives a technique ("YaRN: Efficient…" →
 * YaRN, "H2O: …", "Mamba: …"), what a title says in parentheses ("Linear (Position Interpolation)"),
 * and the acronyms of multi-word names (Position Interpolation → PI, Attention Free Transformer → AFT).
 */
export function aliasesOf(title: string, references: readonly { title: string }[] = []): string[] {
  const out = new Set<string>();
  for (const r of references) {
    const short = /^([^:]{1,24}):/.exec(r.title)?.[1]?.trim();
    if (short && short.split(/\s+/).length <= 3) out.add(short);
  }
  const phrases = [title, ...[...title.matchAll(/\(([^)]+)\)/g)].map((m) => m[1]!)];
  for (const p of phrases) {
    if (p !== title) out.add(p);
    const acronym = acronymOf(p.replace(/\([^)]*\)/g, ''));
    if (acronym) out.add(acronym);
  }
  return [...out];
}

/**
 * "Position Interpolation" → "PI": two to five capitalised words (small words skipped); none for
 * phrases holding an acronym or a coined name already ("Dynamic NTK", "QLoRA NormalFloat").
 */
function acronymOf(phrase: string): string | undefined {
  const ws = phrase.split(/[\s-]+/).filter((w) => w && !/^(of|the|and|for|with|a|an|to|in)$/i.test(w));
  if (ws.length < 2 || ws.length > 5 || !ws.every((w) => /^[A-Z][a-z]+$/.test(w))) return undefined;
  return ws.map((w) => w[0]).join('');
}
