import * as tf from '@tensorflow/tfjs';
import type { ClipTokenizer, TextTower } from '../clip/index.ts';
import type { ParamStore } from '../params.ts';
import { checkpointedChunks } from '../recompute.ts';
import { type ChunkRange, checkChunkSize, sliceRows, TEXT_CHUNK_SIZE } from '../text-chunks.ts';
import {
  emptyCtxInitProblem,
  normalisedCtxInit,
  TEXT_PROMPT_FRAME_TOKENS,
  textContextProblem,
  throwIfAny,
} from '../trainable.ts';
import { normalInit, type RandomSource } from './init.ts';

/**
 * CoOp prompt learner (DPT.py:91-194, docs/method.md §4): one generic context shared by all classes, class name last.
 * Prompt of class c = [SOS, ctx_1..ctx_n, tokens of "{classname}.", EOS, padding], built from the frozen embeddings of
 * "X X … X {classname}." whose X positions are replaced by the learnable ctx.
 *
 * Init: random N(0, 0.02²) of shape [n, D] (official default), or from words: ctx = the token embeddings of `ctxInit`
 * and n = its BPE token count (CoOp counts words with split(' '), which only agrees when every word is one token).
 */
export const TEXT_CTX_KEY = 'text.ctx';

export interface TextPromptOptions {
  nCtx: number;
  ctxInit: string;
}

/** Class-dependent, frozen part of the prompts: rebuilt for every class list (docs/method.md §14). */
export interface TextPromptClasses {
  classnames: string[];
  /** [C, 1, D] SOS embedding */
  prefix: tf.Tensor3D;
  /** [C, L - 1 - n, D] class-name tokens, '.', EOS, padding */
  suffix: tf.Tensor3D;
  eotIndex: number[];
  dispose(): void;
}

export function cleanClassname(name: string): string {
  return name.replace(/_/g, ' ');
}

export class TextPromptLearner {
  readonly nCtx: number;
  private readonly placeholder: string;
  /** the config key that sets the context length, for errors */
  private readonly ctxPath: 'text.ctxInit' | 'text.nCtx';

  constructor(
    private readonly store: ParamStore,
    private readonly text: TextTower,
    private readonly tokenizer: ClipTokenizer,
    options: TextPromptOptions,
    rng: RandomSource,
    /** classes per text-tower pass (dpt/text-chunks.ts); Infinity runs every class at once, the old way */
    readonly chunkSize: number = TEXT_CHUNK_SIZE,
  ) {
    checkChunkSize(chunkSize);
    const init = normalisedCtxInit(options.ctxInit);
    this.ctxPath = init ? 'text.ctxInit' : 'text.nCtx';
    const nTokens = init ? tokenizer.tokenize(init).length : options.nCtx;
    // Refused as config errors (dpt/trainable.ts), before any tensor exists: no retry can fix them.
    if (init && nTokens === 0) throwIfAny([emptyCtxInitProblem(options.ctxInit)]);
    if (nTokens > text.contextLength - TEXT_PROMPT_FRAME_TOKENS) {
      throwIfAny([textContextProblem(this.ctxPath, nTokens, text.contextLength)]);
    }
    if (init) {
      this.nCtx = nTokens;
      this.placeholder = init;
      const ctx = tf.tidy(() => {
        const { ids } = tokenizer.encode([init]);
        const emb = text.tokenEmbedding(ids);
        return tf.reshape(tf.slice(emb, [0, 1, 0], [1, nTokens, text.width]), [nTokens, text.width]);
      });
      store.add(TEXT_CTX_KEY, 'text', ctx);
    } else {
      this.nCtx = options.nCtx;
      this.placeholder = Array.from({ length: this.nCtx }, () => 'X').join(' ');
      store.add(TEXT_CTX_KEY, 'text', normalInit(rng, [this.nCtx, text.width], 0.02));
    }
  }

  buildClasses(classnames: string[]): TextPromptClasses {
    const prompts = classnames.map((name) => `${this.placeholder} ${cleanClassname(name)}.`);
    const { ids, eotIndex } = this.tokenizer.encode(prompts);
    for (const [c, eot] of eotIndex.entries()) {
      if (eot < 1 + this.nCtx + 1) {
        throwIfAny([
          {
            path: this.ctxPath,
            message: `expected a context that leaves room for class "${classnames[c]}" in the model's ${this.text.contextLength}-token text context, got ${this.nCtx} context tokens`,
          },
        ]);
      }
    }
    const { prefix, suffix } = tf.tidy(() => {
      const emb = this.text.tokenEmbedding(ids);
      const [c, l, d] = emb.shape;
      return {
        prefix: tf.slice(emb, [0, 0, 0], [c, 1, d]) as tf.Tensor3D,
        suffix: tf.slice(emb, [0, 1 + this.nCtx, 0], [c, l - 1 - this.nCtx, d]) as tf.Tensor3D,
      };
    });
    return {
      classnames,
      prefix,
      suffix,
      eotIndex,
      dispose: () => {
        prefix.dispose();
        suffix.dispose();
      },
    };
  }

  /**
   * Learned, unnormalised text features [C, projDim] (differentiable w.r.t. the ctx), `chunkSize` classes per
   * text-tower pass; under a gradient tape the chunks are checkpointed (dpt/recompute.ts), so the tape's memory does
   * not grow with the class count.
   */
  features(classes: TextPromptClasses): tf.Tensor2D {
    const ctx = this.store.get(TEXT_CTX_KEY);
    return checkpointedChunks(ctx, classes.classnames.length, this.chunkSize, (range) =>
      this.chunkFeatures(ctx, classes, range),
    );
  }

  private chunkFeatures(ctx: tf.Tensor, classes: TextPromptClasses, range: ChunkRange): tf.Tensor2D {
    return tf.tidy(() => {
      const tiled = tf.tile(tf.expandDims(ctx, 0), [range.size, 1, 1]);
      const embeddings = tf.concat(
        [sliceRows(classes.prefix, range), tiled, sliceRows(classes.suffix, range)],
        1,
      ) as tf.Tensor3D;
      return this.text.encodeEmbeddings(embeddings, classes.eotIndex.slice(range.start, range.start + range.size));
    });
  }
}
