import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../dpt/clip/tokenizer.ts';
import { FIXTURES } from '../../support/clip-fixtures.ts';

interface TokenizerCase {
  text: string;
  open_clip_ids: number[];
  hf_fast_ids: number[];
}
const reference = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer-full/reference.json'), 'utf8')) as {
  context_length: number;
  cases: TokenizerCase[];
};

describe('CLIP tokenizer (real 49408-token BPE) against OpenAI / open_clip reference ids', async () => {
  const tokenizer = await ClipTokenizer.fromFile(join(FIXTURES, 'tokenizer-full/tokenizer.json.gz'), 77);

  it('has CLIP special tokens and vocabulary size', () => {
    expect(tokenizer.sot).toBe(49406);
    expect(tokenizer.eot).toBe(49407);
    expect(tokenizer.vocabSize).toBe(49408);
  });

  it.each(reference.cases)('ids for $text', ({ text, open_clip_ids }) => {
    const { ids, eotIndex } = tokenizer.encodeOne(text);
    const padded = [...open_clip_ids, ...Array(77 - open_clip_ids.length).fill(0)];
    expect(Array.from(ids)).toEqual(padded);
    expect(eotIndex).toBe(open_clip_ids.length - 1);
  });

  it('truncates long text to the context length and keeps EOS last', () => {
    const long = reference.cases.find((c) => c.text.startsWith('long '));
    expect(long?.open_clip_ids.length).toBe(77);
    const { ids, eotIndex } = tokenizer.encodeOne(long?.text ?? '');
    expect(eotIndex).toBe(76);
    expect(ids[76]).toBe(49407);
  });

  it('encode() batches rows and EOT positions equal argmax of the ids', () => {
    const { ids, eotIndex } = tokenizer.encode(['a photo of a cat.', 'x']);
    expect(ids).toHaveLength(2);
    ids.forEach((row, i) => {
      expect(eotIndex[i]).toBe(row.indexOf(Math.max(...row)));
    });
  });
});
