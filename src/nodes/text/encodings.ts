// Tokenizers behind the `tokenizer` node: byte-level BPE from gpt-tokenizer (the vocabularies ship inside
// the npm package, nothing is downloaded at run time; ~5× js-tiktoken's throughput with the same ids,
// docs/BENCHMARKS.md) and plain UTF-8 bytes. Each encoding's rank file is imported only when that
// encoding is first used, and the tokenizer is kept for the process.
//
// Offsets rule. BPE works on UTF-8 bytes, so a token may hold part of a character (an emoji is 4 bytes
// and can be split over two tokens). Offsets are UTF-16 code-unit positions into the text, end
// exclusive, and a character belongs to the token that holds its FIRST byte. So tokens are contiguous
// and never overlap (end[i] = start[i+1]), concatenating text.slice(start, end) over all tokens gives
// the text back, and a token that holds only continuation bytes of a character has an empty span.

export const ENCODINGS = ['o200k_base', 'cl100k_base', 'r50k_base', 'bytes'] as const;
export type EncodingName = (typeof ENCODINGS)[number];

export interface Encoded {
  ids: Int32Array;
  /** [T, 2] UTF-16 (start, end) per token; see the offsets rule above. */
  offsets: Int32Array;
}

export interface TextTokenizer {
  readonly name: EncodingName;
  /** Ids are in [0, vocabSize). Special tokens are never produced: "<|endoftext|>" is encoded as text. */
  readonly vocabSize: number;
  encode(text: string): Encoded;
  /** Inverse of encode for well-formed text. Bytes that do not form UTF-8 decode to U+FFFD. */
  decode(ids: ArrayLike<number>): string;
}

const utf8 = new TextEncoder();

/**
 * For each byte position p of the text's UTF-8 form (0..nBytes), the UTF-16 index of the first
 * character that starts at byte ≥ p. Lone surrogates count as U+FFFD (3 bytes), as TextEncoder writes them.
 */
export function byteToCharCeil(text: string): Int32Array {
  // A UTF-16 unit never needs more than 3 UTF-8 bytes (a surrogate pair is 2 units for 4 bytes).
  const map = new Int32Array(3 * text.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const start = i;
    let len: number;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      len = 4;
      i++;
    } else len = 3; // the rest of the BMP, or a lone surrogate written as U+FFFD
    // The character's first byte maps to its start; its other bytes round up to the next character.
    map[b] = start;
    for (let k = 1; k < len; k++) map[b + k] = i + 1;
    b += len;
  }
  map[b] = text.length;
  return map.subarray(0, b + 1);
}

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Offsets from the byte length of each token (their sum must be the text's UTF-8 length). */
export function offsetsFromByteLengths(text: string, byteLens: ArrayLike<number>): Int32Array {
  const ceil = byteToCharCeil(text);
  const out = new Int32Array(byteLens.length * 2);
  let b = 0;
  for (let t = 0; t < byteLens.length; t++) {
    out[2 * t] = ceil[b]!;
    b += byteLens[t]!;
    if (b >= ceil.length) throw new Error(`tokenizer: tokens hold more bytes (${b}) than the text (${ceil.length - 1})`);
    out[2 * t + 1] = ceil[b]!;
  }
  if (b !== ceil.length - 1) throw new Error(`tokenizer: tokens hold ${b} bytes, the text ${ceil.length - 1}`);
  return out;
}

class BytesTokenizer implements TextTokenizer {
  readonly name = 'bytes' as const;
  readonly vocabSize = 256;
  encode(text: string): Encoded {
    const ids = Int32Array.from(utf8.encode(text));
    return { ids, offsets: offsetsFromByteLengths(text, new Uint8Array(ids.length).fill(1)) };
  }
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(Uint8Array.from(ids as ArrayLike<number>));
  }
}

/** What the node needs of a gpt-tokenizer encoding. */
interface GptEncoding {
  encode(text: string, options: { disallowedSpecial: Set<string> }): number[];
}
/** Rank → token: a string when the token's bytes are valid UTF-8, else the bytes. */
type RankTable = readonly (string | readonly number[])[];

/** No special tokens are disallowed and none allowed: "<|endoftext|>" is encoded as plain text. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

class BpeTokenizer implements TextTokenizer {
  constructor(
    readonly name: EncodingName,
    private readonly enc: GptEncoding,
    private readonly ranks: RankTable,
    /** UTF-8 byte length of each rank. */
    private readonly lens: Uint16Array,
  ) {}
  get vocabSize() {
    return this.lens.length;
  }
  encode(text: string): Encoded {
    const ids = Int32Array.from(this.enc.encode(text, AS_TEXT));
    const lens = new Uint16Array(ids.length);
    for (let i = 0; i < ids.length; i++) lens[i] = this.lens[ids[i]!]!;
    return { ids, offsets: offsetsFromByteLengths(text, lens) };
  }
  /** From the tokens' bytes (gpt-tokenizer's own decode garbles a character split across tokens). */
  decode(ids: ArrayLike<number>): string {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.lens[ids[i]!] ?? 0;
    const bytes = new Uint8Array(n);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const t = this.ranks[ids[i]!];
      if (t === undefined) throw new Error(`${this.name}: token id ${ids[i]} is outside the vocabulary [0, ${this.lens.length})`);
      if (typeof t === 'string') at += utf8.encodeInto(t, bytes.subarray(at)).written;
      else {
        bytes.set(t, at);
        at += t.length;
      }
    }
    return new TextDecoder().decode(bytes);
  }
}

/** UTF-8 length of a string without encoding it (the rank tables hold 200k of them). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Byte length of every rank of a gpt-tokenizer rank table. */
export function rankByteLengths(ranks: RankTable): Uint16Array {
  return Uint16Array.from(ranks, (t) => (typeof t === 'string' ? utf8Length(t) : t.length));
}

// Static specifiers, one per encoding, so bundlers split each rank file into its own lazy chunk. The
// esm paths name the very modules the encoding imports, so the rank table is loaded once.
async function loadEncoding(name: Exclude<EncodingName, 'bytes'>): Promise<{ enc: GptEncoding; ranks: RankTable }> {
  switch (name) {
    case 'o200k_base':
      return { enc: await import('gpt-tokenizer/esm/encoding/o200k_base'), ranks: (await import('gpt-tokenizer/esm/bpeRanks/o200k_base')).default };
    case 'cl100k_base':
      return { enc: await import('gpt-tokenizer/esm/encoding/cl100k_base'), ranks: (await import('gpt-tokenizer/esm/bpeRanks/cl100k_base')).default };
    case 'r50k_base':
      return { enc: await import('gpt-tokenizer/esm/encoding/r50k_base'), ranks: (await import('gpt-tokenizer/esm/bpeRanks/r50k_base')).default };
  }
}

const loaded = new Map<EncodingName, Promise<TextTokenizer>>();

/** The tokenizer for an encoding, built on first use and shared by the whole process. */
export function loadTokenizer(name: string): Promise<TextTokenizer> {
  if (!(ENCODINGS as readonly string[]).includes(name))
    return Promise.reject(new Error(`unknown encoding "${name}"; known: ${ENCODINGS.join(', ')}`));
  const key = name as EncodingName;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      if (key === 'bytes') return new BytesTokenizer();
      const { enc, ranks } = await loadEncoding(key);
      return new BpeTokenizer(key, enc, ranks, rankByteLengths(ranks));
    })();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}
