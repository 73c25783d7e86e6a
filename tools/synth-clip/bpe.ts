/**
 * A small byte-level BPE trainer that writes CLIP's tokenizer.json format: vocabulary = the 256 byte symbols, the
 * same 256 with "</w>", one entry per learned merge, then <|startoftext|> and <|endoftext|> as the last two ids. The
 * pipeline around the model (normaliser, pre-tokeniser, decoder, post-processor) is taken from a real CLIP
 * tokenizer.json, so encoding at run time goes through @huggingface/tokenizers exactly as for OpenAI's vocabulary.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

export const SOT = '<|startoftext|>';
export const EOT = '<|endoftext|>';
const WORD_END = '</w>';

/** GPT-2 / CLIP's reversible byte → printable character map (printable Latin-1 bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (const [lo, hi] of [
    [0x21, 0x7e],
    [0xa1, 0xac],
    [0xae, 0xff],
  ] as const)
    for (let b = lo; b <= hi; b++) keep.push(b);
  const out = new Array<string>(256);
  for (const b of keep) out[b] = String.fromCodePoint(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (out[b] === undefined) out[b] = String.fromCodePoint(256 + extra++);
  }
  return out;
}

/** The 256 byte symbols in CLIP's vocabulary order (the kept printable bytes first, then the remapped ones). */
export function byteSymbols(): string[] {
  const map = bytesToUnicode();
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (map[b] !== undefined && (map[b]?.codePointAt(0) ?? 0) < 256) order.push(b);
  for (let b = 0; b < 256; b++) if ((map[b]?.codePointAt(0) ?? 0) >= 256) order.push(b);
  return order.map((b) => map[b] as string);
}

// CLIP's pre-tokeniser pattern (contractions, letter runs, single digits, other non-space runs), after lower-casing.
const WORD_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** Words of a text as CLIP's pipeline splits them, each as its byte symbols. */
export function pretokenize(text: string): string[] {
  const map = bytesToUnicode();
  const normalised = text.normalize('NFC').replace(/\s+/g, ' ').toLowerCase();
  return (normalised.match(WORD_PATTERN) ?? []).map((w) =>
    Array.from(Buffer.from(w, 'utf8'), (b) => map[b] as string).join(''),
  );
}

export interface BpeModel {
  /** Token → id, ids 0..n-1 in order; SOT and EOT are the last two. */
  vocab: Map<string, number>;
  /** "left right" pairs in rank order. */
  merges: string[];
}

export interface TrainBpeOptions {
  /** Stop after this many merges. */
  maxMerges: number;
  /** Stop when the most frequent pair occurs fewer times than this. */
  minFrequency?: number;
}

/**
 * Learns merges greedily: the most frequent adjacent pair (weighted by word counts), ties broken by the pair's
 * string order, so the result depends only on the texts. Words end with "</w>" on their last symbol, as in CLIP.
 */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): BpeModel {
  const minFrequency = opts.minFrequency ?? 2;
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of pretokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([w, count]) => {
      const symbols = Array.from(w);
      symbols[symbols.length - 1] += WORD_END;
      return { symbols, count };
    });
  const vocab = new Map<string, number>();
  for (const s of byteSymbols()) vocab.set(s, vocab.size);
  for (const s of byteSymbols()) vocab.set(s + WORD_END, vocab.size);
  const merges: string[] = [];
  while (merges.length < opts.maxMerges) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const [left, right] = best.split(' ') as [string, string];
    for (const word of words) word.symbols = mergePair(word.symbols, left, right);
    merges.push(best);
    if (!vocab.has(left + right)) vocab.set(left + right, vocab.size);
  }
  vocab.set(SOT, vocab.size);
  vocab.set(EOT, vocab.size);
  return { vocab, merges };
}

function mergePair(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else out.push(symbols[i] as string);
  }
  return out;
}

const skeletonSchema = z
  .object({
    added_tokens: z.array(z.object({ content: z.string() }).passthrough()),
    post_processor: z
      .object({ sep: z.tuple([z.string(), z.number()]), cls: z.tuple([z.string(), z.number()]) })
      .passthrough(),
    model: z.object({ type: z.literal('BPE'), end_of_word_suffix: z.literal(WORD_END) }).passthrough(),
  })
  .passthrough();

/** Reads a CLIP tokenizer.json (or .json.gz) to reuse its pipeline. */
export async function readSkeleton(path: string): Promise<Record<string, unknown>> {
  const raw = await readFile(path);
  const json: unknown = JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  skeletonSchema.parse(json);
  return json as Record<string, unknown>;
}

/** A CLIP tokenizer.json with the skeleton's pipeline and `bpe`'s vocabulary and merges. */
export function tokenizerJson(skeleton: Record<string, unknown>, bpe: BpeModel): Record<string, unknown> {
  const parsed = skeletonSchema.parse(skeleton);
  const sot = bpe.vocab.get(SOT);
  const eot = bpe.vocab.get(EOT);
  if (sot === undefined || eot === undefined) throw new Error('BPE vocabulary lacks <|startoftext|> / <|endoftext|>');
  const special = (content: string, id: number) => {
    const template = parsed.added_tokens.find((t) => t.content === content);
    if (!template) throw new Error(`skeleton tokenizer has no added token ${content}`);
    return { ...template, id };
  };
  return {
    ...skeleton,
    added_tokens: [special(SOT, sot), special(EOT, eot)],
    post_processor: { ...parsed.post_processor, sep: [EOT, eot], cls: [SOT, sot] },
    model: { ...parsed.model, vocab: Object.fromEntries(bpe.vocab), merges: bpe.merges },
  };
}
