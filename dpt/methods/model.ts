import * as tf from '@tensorflow/tfjs';
import { type ClipModel, type ClipTokenizer, type ObserveFn, zeroShotClassifier } from '../clip/index.ts';
import { type CavptMask, cavptLoss, crossEntropy, warmupMainLoss } from '../losses.ts';
import { l2Normalize, selectRows, stopGradient, topKIndices } from '../ops.ts';
import { ParamStore } from '../params.ts';
import { CavptModule } from '../prompts/cavpt.ts';
import type { RandomSource } from '../prompts/init.ts';
import { normalInit } from '../prompts/init.ts';
import type { LayerPlan } from '../prompts/layer-plan.ts';
import { type TextPromptClasses, TextPromptLearner } from '../prompts/text-prompt.ts';
import { checkChunkSize, TEXT_CHUNK_SIZE } from '../text-chunks.ts';
import { promptProblems, throwIfAny } from '../trainable.ts';
import type { TrialConfig } from '../trial-config.ts';
import type { LossParts, MethodDef, MethodSettings } from './method.ts';
import { type Method, methodDef } from './registry.ts';

/**
 * CLIP with the prompts of one method (dpt/methods/registry.ts): the learned text context, VPT-deep tokens and CAVPT
 * modules the method's declaration asks for, the prompted image encoder, and the parts its training loss is built
 * from. The methods themselves are their modules (dpt/methods/coop.ts, ...); docs/method.md maps them to the paper.
 */
export const VPT_CTX_KEY = 'vpt.ctx';

export type { MethodSettings } from './method.ts';

/** Everything that depends on the class list: rebuilt for each evaluation target (docs/method.md §14). */
export interface ClassContext {
  classnames: string[];
  /** L2-normalised hand-crafted text features [C, projDim] (frozen) */
  handFeatures: tf.Tensor2D;
  /** frozen parts of the learned prompts; absent for methods without text prompts */
  textClasses?: TextPromptClasses;
  dispose(): void;
}

export interface LossTerms {
  total: tf.Scalar;
  main: number;
  cavpt: number;
  correct: number;
}

/** `PromptedClip.patchAttention`: shares [B, patches] of each row's attention, mean over heads. */
export interface PatchAttention {
  logits: tf.Tensor2D;
  classToken: tf.Tensor2D;
  /** mean over the block's class-aware prompts; absent where the block holds none */
  classAwarePrompts?: tf.Tensor2D;
}

export interface PromptedClipOptions {
  /**
   * Classes per pass of the text tower, for the learned and the hand-crafted features alike (default
   * TEXT_CHUNK_SIZE, see dpt/text-chunks.ts for why); Infinity runs every class at once (the unchunked path).
   */
  textChunkSize?: number;
}

export interface TrainInputs {
  pixels: tf.Tensor4D;
  labels: Int32Array;
  epoch: number;
  loss: TrialConfig['loss'];
}

export class PromptedClip {
  readonly store = new ParamStore();
  readonly plan: LayerPlan;
  readonly textLearner?: TextPromptLearner;
  readonly cavpt: CavptModule[] = [];
  readonly vptLength: number;
  readonly textChunkSize: number;
  readonly def: MethodDef;

  constructor(
    readonly clip: ClipModel,
    readonly tokenizer: ClipTokenizer,
    readonly settings: MethodSettings,
    /** number of classes of the SOURCE dataset: the width of the CAVPT classifier */
    readonly numClasses: number,
    rng: RandomSource,
    options: PromptedClipOptions = {},
  ) {
    this.textChunkSize = options.textChunkSize ?? TEXT_CHUNK_SIZE;
    checkChunkSize(this.textChunkSize);
    this.def = methodDef(settings.method);
    const { vision, text } = clip;
    // A TrialConfigError before any tensor exists, so the trainer reports a config failure instead of a crash.
    throwIfAny(
      promptProblems(settings, {
        visionLayers: vision.numLayers,
        textContextLength: text.contextLength,
        countTokens: (words) => tokenizer.tokenize(words).length,
      }),
    );
    this.plan = this.def.plan(settings, vision.numLayers);
    this.vptLength = settings.vpt.length;
    // Initialisation order (one generator): text ctx, VPT ctx, CAVPT modules in order.
    if (this.def.trains.includes('text')) {
      this.textLearner = new TextPromptLearner(this.store, text, tokenizer, settings.text, rng, this.textChunkSize);
    }
    if (this.plan.vptRows > 0 && this.vptLength > 0) {
      this.store.add(VPT_CTX_KEY, 'visual', normalInit(rng, [this.plan.vptRows, this.vptLength, vision.width], 0.02));
    }
    for (let i = 0; i < this.plan.cavptModules; i++) {
      this.cavpt.push(
        new CavptModule(
          this.store,
          `cavpt.${i}`,
          { textDim: text.projDim, width: vision.width, numClasses, ctxTokens: settings.cavpt.ctxTokens },
          rng,
        ),
      );
    }
  }

  get method(): Method {
    return this.settings.method;
  }

  /** K = min(K_N, C) for the given class list; 0 for methods without CAVPT. */
  topK(numClasses: number): number {
    return this.def.classAware ? Math.min(this.settings.cavpt.kN, numClasses) : 0;
  }

  buildClassContext(classnames: string[], template: string): ClassContext {
    if (classnames.length === 0) throw new Error('class list is empty');
    // Frozen and computed once, without a tape; chunked so the text tower's intermediates stay bounded too.
    const handFeatures = zeroShotClassifier(this.clip, this.tokenizer, classnames, template, this.textChunkSize);
    const textClasses = this.textLearner?.buildClasses(classnames);
    return {
      classnames,
      handFeatures,
      textClasses,
      dispose: () => {
        handFeatures.dispose();
        textClasses?.dispose();
      },
    };
  }

  /** Prompt-free, normalised CLIP image features (no gradient: computed outside any tape). */
  zeroShotFeatures(pixels: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(this.clip.vision.encode(pixels)));
  }

  /** Top-K classes by zero-shot score (docs/method.md §6), no labels involved. */
  selectTopK(f0: tf.Tensor2D, ctx: ClassContext): Int32Array[] {
    const k = this.topK(ctx.classnames.length);
    if (k === 0) return Array.from({ length: f0.shape[0] }, () => new Int32Array(0));
    const scores = tf.tidy(() => tf.matMul(f0, ctx.handFeatures, false, true) as tf.Tensor2D);
    try {
      return topKIndices(scores, k);
    } finally {
      scores.dispose();
    }
  }

  /** Learned text features [C, projDim], unnormalised. */
  textFeatures(ctx: ClassContext): tf.Tensor2D {
    if (!this.textLearner || !ctx.textClasses) throw new Error(`method ${this.method} has no learned text prompts`);
    return this.textLearner.features(ctx.textClasses);
  }

  /**
   * The prompted image encoder: VPT-deep prompts and/or class-aware prompts appended after the patch tokens for one
   * block each, then dropped. `tSel` [B, K, projDim] feeds the CAVPT queries. Returns unnormalised features and the
   * per-application CAVPT logits (only when `withCavptLogits`).
   */
  encodeImage(
    pixels: tf.Tensor4D,
    tSel: tf.Tensor3D | null,
    withCavptLogits: boolean,
    observe?: ObserveFn,
  ): { features: tf.Tensor2D; layerLogits: tf.Tensor3D[] } {
    const layerLogits: tf.Tensor3D[] = [];
    const vptCtx = this.store.has(VPT_CTX_KEY) ? this.store.get(VPT_CTX_KEY) : null;
    const features = this.clip.vision.encode(
      pixels,
      (l, x) => {
        const inj = this.plan.blocks[l]!;
        if (inj.kind === 'vpt' && vptCtx) {
          const [b, , d] = x.shape;
          const row = tf.slice(vptCtx, [inj.row, 0, 0], [1, this.vptLength, d]);
          return tf.tile(row, [b, 1, 1]) as tf.Tensor3D;
        }
        if (inj.kind === 'cavpt' && tSel && tSel.shape[1] > 0) {
          // Keys/values see the block input without gradient (DPT.py:389); the queries keep theirs (into the text ctx).
          const xIn = stopGradient(x) as tf.Tensor3D;
          const out = this.cavpt[inj.module]!.forward(xIn, tSel, withCavptLogits);
          if (out.logits) layerLogits.push(out.logits);
          return out.prompts;
        }
        return null;
      },
      observe,
    );
    return { features, layerLogits };
  }

  /**
   * Training loss for one batch, to be called inside tf.variableGrads. `f0` (normalised zero-shot features) and
   * `indices`/`mask` (top-K selection) are constants computed beforehand, outside the tape.
   */
  trainLoss(
    inputs: TrainInputs,
    ctx: ClassContext,
    f0: tf.Tensor2D | null,
    indices: tf.Tensor2D | null,
    mask: CavptMask,
  ): LossTerms {
    const { trainLoss } = this.def;
    if (!trainLoss) throw new Error(`method ${this.method} has nothing to train`);
    const scale = this.clip.logitScale();
    const oneHot = tf.oneHot(tf.tensor1d(inputs.labels, 'int32'), ctx.classnames.length).toFloat();
    const { epoch, loss } = inputs;
    const parts: LossParts = {
      tf,
      epoch,
      loss,
      frozenImage: f0,
      handText: ctx.handFeatures,
      cavptSelected: mask.selectedPerLayer > 0,
      learnedText: () => this.textFeatures(ctx),
      l2Normalize: (x) => l2Normalize(x) as tf.Tensor2D,
      promptedImage: (classText, withCavptLogits) =>
        this.encodeImage(inputs.pixels, classText && indices ? selectRows(classText, indices) : null, withCavptLogits),
      logits: (image, text) => tf.mul(tf.matMul(image, text, false, true), scale) as tf.Tensor2D,
      crossEntropy: (logits) => crossEntropy(logits, oneHot),
      warmupLoss: (logits, logits1, logits2) =>
        warmupMainLoss({ epoch, warmupEpochs: loss.warmupEpochs, beta: loss.beta, logits, logits1, logits2, oneHot }),
      cavptLoss: (layerLogits) => cavptLoss(layerLogits, mask, oneHot),
    };
    const { logits, main, cavpt: cavptTerm } = trainLoss(parts);
    const total = cavptTerm ? (tf.add(main, tf.mul(cavptTerm, loss.alpha)) as tf.Scalar) : main;
    const predicted = tf.argMax(logits, -1).dataSync();
    let correct = 0;
    for (let i = 0; i < inputs.labels.length; i++) if (predicted[i] === inputs.labels[i]) correct += 1;
    return {
      total,
      main: main.dataSync()[0]!,
      cavpt: cavptTerm ? cavptTerm.dataSync()[0]! : 0,
      correct,
    };
  }

  /** Test-time logits [B, C] (the main `logits`, docs/method.md §9); `textFeatures` is computed once per class list. */
  predictLogits(pixels: tf.Tensor4D, ctx: ClassContext, textFeatures: tf.Tensor2D | null): tf.Tensor2D {
    return tf.tidy(() => this.testForward(pixels, ctx, textFeatures).logits);
  }

  /**
   * What the test-time image encoder attends to in vision block `layer` (docs/attention.md): the class token's
   * attention over the image patches and, where the block holds class-aware prompts, theirs (mean over the prompts),
   * each the mean over heads: [B, patches] shares of the row's attention. Also the test-time logits.
   */
  patchAttention(
    pixels: tf.Tensor4D,
    ctx: ClassContext,
    textFeatures: tf.Tensor2D | null,
    layer: number,
  ): PatchAttention {
    return tf.tidy(() => {
      const seen: { classToken?: tf.Tensor2D; classAwarePrompts?: tf.Tensor2D } = {};
      const patches = this.clip.vision.numTokens - 1;
      const observe: ObserveFn = (l, tokens) => {
        if (l !== layer) return;
        const weights = tf.mean(this.clip.vision.attention(l, tokens), 1) as tf.Tensor3D;
        const [batch, len] = weights.shape;
        seen.classToken = tf.reshape(tf.slice(weights, [0, 0, 1], [batch, 1, patches]), [batch, patches]);
        const extra = len - 1 - patches;
        if (this.plan.blocks[l]?.kind === 'cavpt' && extra > 0) {
          seen.classAwarePrompts = tf.mean(
            tf.slice(weights, [0, 1 + patches, 1], [batch, extra, patches]),
            1,
          ) as tf.Tensor2D;
        }
      };
      // A method whose classifier sees CLIP's own features (zero-shot, CoOp) attends as CLIP does.
      const { logits } = this.testForward(pixels, ctx, textFeatures, observe);
      const { classToken, classAwarePrompts } = seen;
      if (!classToken) throw new Error(`vision layer ${layer} out of range 0..${this.clip.vision.numLayers - 1}`);
      return classAwarePrompts ? { logits, classToken, classAwarePrompts } : { logits, classToken };
    });
  }

  private testForward(
    pixels: tf.Tensor4D,
    ctx: ClassContext,
    textFeatures: tf.Tensor2D | null,
    observe?: ObserveFn,
  ): { logits: tf.Tensor2D } {
    const scale = this.clip.logitScale();
    const classifier = textFeatures ? l2Normalize(textFeatures) : ctx.handFeatures;
    let img: tf.Tensor;
    if (this.def.image === 'frozen') {
      img = l2Normalize(this.clip.vision.encode(pixels, undefined, observe));
    } else {
      let tSel: tf.Tensor3D | null = null;
      if (this.def.classAware && textFeatures && this.topK(ctx.classnames.length) > 0) {
        const f0 = this.zeroShotFeatures(pixels);
        const rows = this.selectTopK(f0, ctx);
        tSel = selectRows(textFeatures, indexTensor(rows));
      }
      img = l2Normalize(this.encodeImage(pixels, tSel, false, observe).features);
    }
    return { logits: tf.mul(tf.matMul(img, classifier, false, true), scale) as tf.Tensor2D };
  }

  dispose(): void {
    this.store.dispose();
  }
}

export function indexTensor(rows: readonly Int32Array[]): tf.Tensor2D {
  const k = rows[0]?.length ?? 0;
  const flat = new Int32Array(rows.length * k);
  rows.forEach((r, i) => {
    flat.set(r, i * k);
  });
  return tf.tensor2d(flat, [rows.length, k], 'int32');
}

/** Keys of CAVPT tensors PyTorch would still step (with a zero gradient) when K = 0: all but LN-before-classifier and classifier. */
export function zeroLengthCavptKeys(model: PromptedClip): string[] {
  return model.store
    .inGroup('cavpt')
    .map((p) => p.key)
    .filter((key) => !key.includes('.classifier.') && !/\.ln\./.test(key));
}
