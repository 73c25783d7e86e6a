import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';
import { ClipLoadError } from './errors.ts';
import { basicClean } from './text-clean.ts';

export interface EncodedTexts {
  /** One row per text: SOS, tokens, EOS, then 0 padding up to the context length. */
  ids: Int32Array[];
  /** Position of EOS in each row (what CLIP pools; equals argmax of the ids). */
  eotIndex: number[];
}

/** CLIP's byte-level BPE tokenizer, read from a Hugging Face tokenizer.json, with OpenAI's framing and truncation. */
export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  readonly vocabSize: number;

  constructor(
    private readonly inner: Tokenizer,
    readonly contextLength: number,
    source = 'tokenizer.json',
  ) {
    const vocab = inner.get_vocab(true);
    const sot = vocab.get('<|startoftext|>');
    const eot = vocab.get('<|endoftext|>');
    if (sot === undefined || eot === undefined) {
      throw new ClipLoadError(`${source} is not a CLIP tokenizer: <|startoftext|> / <|endoftext|> missing`);
    }
    if (contextLength < 2) throw new ClipLoadError(`context length ${contextLength} leaves no room for SOS and EOS`);
    this.sot = sot;
    this.eot = eot;
    this.vocabSize = Math.max(...vocab.values()) + 1;
  }

  static async fromFile(path: string, contextLength: number): Promise<ClipTokenizer> {
    let json: unknown;
    try {
      const raw = await readFile(path);
      const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      json = JSON.parse(text);
    } catch (err) {
      throw new ClipLoadError(`cannot read tokenizer ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
    let inner: Tokenizer;
    try {
      inner = new Tokenizer(json as object, {});
    } catch (err) {
      throw new ClipLoadError(`${basename(path)} is not a usable tokenizer.json: ${(err as Error).message}`);
    }
    return new ClipTokenizer(inner, contextLength, basename(path));
  }

  /** BPE ids of the cleaned text, without SOS/EOS or padding. */
  tokenize(text: string): number[] {
    return this.inner.encode(basicClean(text), { add_special_tokens: false }).ids;
  }

  /** One padded row. Too-long texts keep their first tokens and end with EOS, like OpenAI's `tokenize(truncate=True)`. */
  encodeOne(text: string): { ids: Int32Array; eotIndex: number } {
    const body = this.tokenize(text).slice(0, this.contextLength - 2);
    const ids = new Int32Array(this.contextLength);
    ids[0] = this.sot;
    ids.set(body, 1);
    const eotIndex = body.length + 1;
    ids[eotIndex] = this.eot;
    return { ids, eotIndex };
  }

  encode(texts: string[]): EncodedTexts {
    const rows = texts.map((t) => this.encodeOne(t));
    return { ids: rows.map((r) => r.ids), eotIndex: rows.map((r) => r.eotIndex) };
  }
}
