import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { sampleScene } from '../../../data/synthetic/scene.ts';
import { ClipTokenizer } from '../../../dpt/clip/tokenizer.ts';
import {
  byteSymbols,
  EOT,
  pretokenize,
  readSkeleton,
  SOT,
  tokenizerJson,
  trainBpe,
} from '../../../tools/synth-clip/bpe.ts';
import { captionVariant } from '../../../tools/synth-clip/captions.ts';

const SKELETON = join(import.meta.dirname, '../../fixtures/clip/tokenizer-full/tokenizer.json.gz');

function corpus(seed: number, n: number): string[] {
  const rng = new PythonRandom(seed);
  return Array.from({ length: n }, () => captionVariant(rng, sampleScene(rng)));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synth-bpe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('synth-clip BPE trainer', () => {
  const texts = corpus(1, 400);

  it('is deterministic and learns frequent pairs first', () => {
    const a = trainBpe(texts, { maxMerges: 500 });
    const b = trainBpe([...texts], { maxMerges: 500 });
    expect(a.merges).toEqual(b.merges);
    expect([...a.vocab]).toEqual([...b.vocab]);
    expect(a.merges.length).toBeGreaterThan(20);
    // "a" alone is the commonest word, so its end-of-word form is never merged; the first merge joins common letters.
    expect(a.merges[0]).toMatch(/^\S+ \S+$/);
    const few = trainBpe(texts, { maxMerges: 5 });
    expect(few.merges).toEqual(a.merges.slice(0, 5));
  });

  it('lays out the vocabulary like CLIP: bytes, bytes</w>, merges, then SOT and EOT last', async () => {
    const skeleton = (await readSkeleton(SKELETON)) as { model: { vocab: Record<string, number> } };
    const real = Object.entries(skeleton.model.vocab)
      .filter(([, id]) => id < 512)
      .sort((x, y) => x[1] - y[1])
      .map(([token]) => token);
    const symbols = byteSymbols();
    expect(real).toEqual([...symbols, ...symbols.map((s) => `${s}</w>`)]);
    const bpe = trainBpe(texts, { maxMerges: 500 });
    const ids = [...bpe.vocab.values()];
    expect(ids).toEqual([...ids.keys()]);
    expect(bpe.vocab.get(SOT)).toBe(bpe.vocab.size - 2);
    expect(bpe.vocab.get(EOT)).toBe(bpe.vocab.size - 1);
  });

  it('writes a tokenizer.json that ClipTokenizer loads and that encodes every caption word to learned tokens', async () => {
    const bpe = trainBpe(texts, { maxMerges: 500 });
    const file = join(dir, 'tokenizer.json');
    await writeFile(file, JSON.stringify(tokenizerJson(await readSkeleton(SKELETON), bpe)));
    const tok = await ClipTokenizer.fromFile(file, 24);
    expect(tok.sot).toBe(bpe.vocab.size - 2);
    expect(tok.eot).toBe(bpe.vocab.size - 1);
    expect(tok.vocabSize).toBe(bpe.vocab.size);
    const byId = new Map([...bpe.vocab].map(([token, id]) => [id, token]));
    const unseen = corpus(2, 100);
    for (const text of unseen) {
      for (const word of pretokenize(text)) {
        const pieces = tok.tokenize(word).map((id) => byId.get(id) ?? '?');
        expect(pieces.join('').replace(/<\/w>$/, ''), text).toBe(word);
        // Words of the generator's vocabulary are frequent enough to end up as single tokens.
        expect(pieces, word).toHaveLength(1);
      }
    }
    const row = tok.encodeOne('a large red circle.');
    expect(row.ids[0]).toBe(tok.sot);
    expect(row.ids[row.eotIndex]).toBe(tok.eot);
    expect(row.eotIndex).toBe(6);
  });
});
