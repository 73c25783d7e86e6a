import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { loadClip } from '../../../dpt/clip/model.ts';
import { zeroShotClassifier, zeroShotLogits } from '../../../dpt/clip/zero-shot.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { FIXTURES, MODEL_NAMES, maxAbsDiff, readReference, referencePixels } from '../../support/clip-fixtures.ts';

const TOLERANCE: Record<string, number> = { fp32: 1e-4, fp16: 1e-4, bf16: 1e-4 };

const BACKENDS = backendsUnderTest(['cpu', 'wasm']);

describe.each(MODEL_NAMES.flatMap((name) => BACKENDS.map((backend) => ({ name, backend }))))(
  'CLIP parity with transformers on $name ($backend backend)',
  ({ name, backend }) => {
    beforeAll(async () => {
      await activateBackend(backend);
    });
    const ref = readReference(name);
    const cases = Object.entries(ref.variants).flatMap(([variant, out]) =>
      out.dirs.map((dir) => ({ variant, dir, out })),
    );

    it.each(cases)('$dir ($variant): image/text features and zero-shot logits', async ({ variant, dir, out }) => {
      const { model, tokenizer, layout } = await loadClip(join(FIXTURES, dir));
      expect(layout).toBe(dir.includes('openai') ? 'openai' : 'hf');
      try {
        const pixels = await referencePixels(ref);
        const image = tf.tidy(() => model.vision.encode(pixels));
        const enc = tokenizer.encode(ref.texts);
        expect(enc.ids.map((r) => Array.from(r))).toEqual(ref.ids);
        const text = model.text.encode(enc.ids, enc.eotIndex);
        const classifier = zeroShotClassifier(model, tokenizer, ref.classnames, ref.template);
        const logits = zeroShotLogits(model, image, classifier);
        const errors = {
          image: maxAbsDiff(image.arraySync(), out.image_embeds),
          text: maxAbsDiff(text.arraySync(), out.text_embeds),
          logits: maxAbsDiff(logits.arraySync(), out.zero_shot_logits),
          scale: Math.abs(model.logitScale() - out.logit_scale),
        };
        expect(tf.getBackend()).toBe(backend);
        console.log(`parity ${backend} ${dir} ${variant}: ${JSON.stringify(errors)}`);
        const tol = TOLERANCE[variant] ?? 1e-4;
        expect(errors.image).toBeLessThan(tol);
        expect(errors.text).toBeLessThan(tol);
        expect(errors.logits).toBeLessThan(tol);
        expect(errors.scale).toBeLessThan(1e-4);
        tf.dispose([pixels, image, text, classifier, logits]);
      } finally {
        model.dispose();
      }
    });
  },
);
