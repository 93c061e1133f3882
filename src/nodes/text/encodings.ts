// Tokenizers behind the `tokenizer` node: byte-level BPE from js-tiktoken (the vocabularies ship inside
// the npm package, nothing is downloaded at run time) and plain UTF-8 bytes. Each encoding's rank file
// is imported only when that encoding is first used, and the tokenizer is kept for the process.
//
// Offsets rule. BPE works on UTF-8 bytes, so a token may hold part of a character (an emoji is 4 bytes
// and can be split over two tokens). Offsets are UTF-16 code-unit positions into the text, end
// exclusive, and a character belongs to the token that holds its FIRST byte. So tokens are contiguous
// and never overlap (end[i] = start[i+1]), concatenating text.slice(start, end) over all tokens gives
// the text back, and a token that holds only continuation bytes of a character has an empty span.
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';

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

class BpeTokenizer implements TextTokenizer {
  constructor(
    readonly name: EncodingName,
    private readonly enc: Tiktoken,
    /** UTF-8 byte length of each rank. */
    private readonly lens: Uint16Array,
  ) {}
  get vocabSize() {
    return this.lens.length;
  }
  encode(text: string): Encoded {
    // allowedSpecial = [] and disallowedSpecial = []: special-token strings are plain text.
    const ids = Int32Array.from(this.enc.encode(text, [], []));
    const lens = new Uint16Array(ids.length);
    for (let i = 0; i < ids.length; i++) lens[i] = this.lens[ids[i]!]!;
    return { ids, offsets: offsetsFromByteLengths(text, lens) };
  }
  decode(ids: ArrayLike<number>): string {
    return this.enc.decode(Array.from(ids));
  }
}

/**
 * Byte length of every rank, read from the rank file js-tiktoken ships: lines of
 * `<tag> <first rank> <base64 token> <base64 token> …`, consecutive ranks (the layout its own loader reads).
 */
export function rankByteLengths(bpe: TiktokenBPE): Uint16Array {
  const entries: [number, number][] = [];
  let maxRank = -1;
  for (const line of bpe.bpe_ranks.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    const first = Number.parseInt(parts[1]!, 10);
    for (let i = 2; i < parts.length; i++) {
      const b64 = parts[i]!;
      const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
      entries.push([first + i - 2, (b64.length * 3) / 4 - pad]);
      maxRank = Math.max(maxRank, first + i - 2);
    }
  }
  const lens = new Uint16Array(maxRank + 1);
  for (const [rank, len] of entries) lens[rank] = len;
  return lens;
}

// Static specifiers, one per encoding, so bundlers split each rank file into its own lazy chunk.
export async function loadRanks(name: Exclude<EncodingName, 'bytes'>): Promise<TiktokenBPE> {
  switch (name) {
    case 'o200k_base':
      return (await import('js-tiktoken/ranks/o200k_base')).default;
    case 'cl100k_base':
      return (await import('js-tiktoken/ranks/cl100k_base')).default;
    case 'r50k_base':
      return (await import('js-tiktoken/ranks/r50k_base')).default;
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
      const { Tiktoken } = await import('js-tiktoken/lite');
      const ranks = await loadRanks(key);
      return new BpeTokenizer(key, new Tiktoken(ranks), rankByteLengths(ranks));
    })();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}
