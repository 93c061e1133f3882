// Hugging Face tokenizers (tokenizer.json: BPE, WordPiece, Unigram, with their normalizers,
// pre-tokenizers and post-processors) through @huggingface/tokenizers, the library transformers.js
// uses. It gives ids and token strings, not offsets, so offsets are recovered here: exactly for
// byte-level BPE (GPT-2, Llama 3, Qwen2, SmolLM: every token string maps back to its UTF-8 bytes),
// and by aligning each token's decoded text against the input otherwise (SentencePiece-style
// tokenizers; a token that cannot be placed gets an empty span at the cursor).
import { Tokenizer } from '@huggingface/tokenizers';
import { offsetsFromByteLengths, type Encoded } from './encodings.js';
import { hashBytes } from '../../engine/run/hash.js';

/** GPT-2's bytes_to_unicode, inverted: the character a byte-level token uses for each byte. */
const BYTE_OF = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  return new Map(cs.map((c, i) => [String.fromCharCode(c), bs[i]!]));
})();

export class HfTokenizer {
  readonly vocabSize: number;
  private readonly special: Set<number>;

  constructor(
    readonly name: string,
    private readonly tok: Tokenizer,
    private readonly addSpecialTokens: boolean,
  ) {
    this.special = new Set([...tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
    const vocab = tok.get_vocab() as unknown as Map<string, number> | Record<string, number>;
    this.vocabSize = Math.max(...(vocab instanceof Map ? vocab.values() : Object.values(vocab)), ...this.special) + 1;
  }

  /** Parses a tokenizer.json (and, when given, tokenizer_config.json); errors name the file. */
  static fromJson(bytes: Uint8Array, file: string, opts: { config?: Uint8Array; addSpecialTokens?: boolean } = {}): HfTokenizer {
    const parse = (b: Uint8Array, f: string) => {
      try {
        return JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`${f}: not valid JSON: ${(err as Error).message}`);
      }
    };
    const json = parse(bytes, file);
    if (!json.model || typeof json.model !== 'object') throw new Error(`${file}: no "model" object (is it a Hugging Face tokenizer.json?)`);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, opts.config ? parse(opts.config, 'tokenizer_config.json') : {});
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
    return new HfTokenizer(`hf:${file}`, tok, opts.addSpecialTokens ?? true);
  }

  encode(text: string): Encoded {
    const e = this.tok.encode(text, { add_special_tokens: this.addSpecialTokens });
    const ids = Int32Array.from(e.ids);
    return { ids, offsets: this.byteLevelOffsets(text, ids, e.tokens) ?? this.alignedOffsets(text, ids) };
  }

  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: true });
  }

  /** Exact offsets when every token string is in the byte-level alphabet (specials absent from the text count 0 bytes). */
  private byteLevelOffsets(text: string, ids: Int32Array, tokens: string[]): Int32Array | undefined {
    const lens = new Int32Array(ids.length);
    const utf8 = new TextEncoder();
    let at = 0;
    const textBytes = utf8.encode(text);
    for (let i = 0; i < ids.length; i++) {
      const t = tokens[i]!;
      if (this.special.has(ids[i]!)) {
        const b = utf8.encode(t);
        const present = b.every((x, k) => textBytes[at + k] === x);
        lens[i] = present ? b.length : 0;
      } else {
        let n = 0;
        for (const ch of t) {
          if (!BYTE_OF.has(ch)) return undefined;
          n++;
        }
        lens[i] = n;
      }
      at += lens[i]!;
    }
    if (at !== textBytes.length) return undefined;
    return offsetsFromByteLengths(text, lens);
  }

  /** Offsets by placing each token's decoded text at or just after the cursor. */
  private alignedOffsets(text: string, ids: Int32Array): Int32Array {
    const out = new Int32Array(ids.length * 2);
    let cursor = 0;
    for (let i = 0; i < ids.length; i++) {
      const piece = this.special.has(ids[i]!) ? '' : this.tok.decode([ids[i]!]).trim();
      const at = piece ? text.indexOf(piece, cursor) : -1;
      out[2 * i] = cursor;
      // Whitespace the tokenizer folded into the token belongs to it; a piece far ahead is not this token's.
      if (at >= 0 && at - cursor <= 8 && text.slice(cursor, at).trim() === '') cursor = at + piece.length;
      out[2 * i + 1] = cursor;
    }
    if (ids.length) out[2 * ids.length - 1] = text.length;
    return out;
  }
}

const cache = new Map<string, HfTokenizer>();

/** A tokenizer.json read through `read` (confined like every pipeline read), kept per file and content. */
export async function loadHfTokenizer(read: (path: string) => Promise<Uint8Array>, path: string, addSpecialTokens = true): Promise<HfTokenizer> {
  const bytes = await read(path);
  const key = `${path}\u0000${addSpecialTokens}\u0000${hashBytes(bytes)}`;
  let tok = cache.get(key);
  if (!tok) {
    tok = HfTokenizer.fromJson(bytes, path, { addSpecialTokens });
    if (cache.size > 8) cache.delete(cache.keys().next().value!);
    cache.set(key, tok);
  }
  return tok;
}
