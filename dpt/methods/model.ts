import * as tf from '@tensorflow/tfjs';
import type { ClipModel, ClipTokenizer } from '../clip/index.ts';
import { type CavptMask, cavptLoss, crossEntropy, warmupMainLoss } from '../losses.ts';
import { l2Normalize, selectRows, stopGradient, topKIndices } from '../ops.ts';
import { ParamStore } from '../params.ts';
import { CavptModule } from '../prompts/cavpt.ts';
import type { RandomSource } from '../prompts/init.ts';
import { normalInit } from '../prompts/init.ts';
import { dptPlan, type LayerPlan, noPromptPlan, vptOnlyPlan } from '../prompts/layer-plan.ts';
import { cleanClassname, type TextPromptClasses, TextPromptLearner } from '../prompts/text-prompt.ts';
import { checkChunkSize, concatChunks, TEXT_CHUNK_SIZE } from '../text-chunks.ts';
import { type PromptSettings, promptProblems, throwIfAny } from '../trainable.ts';
import type { Method, TrialConfig } from '../trial-config.ts';

/**
 * One configuration machinery for the five methods (DPT_SPEC §1.5, §1.8):
 * - zeroshot: frozen image features × hand-crafted text features (one template per dataset).
 * - coop: frozen image features × learned text features; CE.
 * - vpt: VPT-deep prompted image × hand-crafted text features; CE.
 * - vlp: CoOp + VPT-deep (all blocks), the warm-up loss of §2 (no CAVPT).
 * - dpt: CoOp + VPT-deep + CAVPT, three logits, warm-up loss + α·L_cavpt.
 */
export const VPT_CTX_KEY = 'vpt.ctx';

export type MethodSettings = PromptSettings;

/** Everything that depends on the class list: rebuilt for each evaluation target (§4.5). */
export interface ClassContext {
  classnames: string[];
  /** L2-normalised hand-crafted text features [C, projDim] (frozen) */
  handFeatures: tf.Tensor2D;
  /** frozen parts of the learned prompts; absent for methods without text prompts */
  textClasses?: TextPromptClasses;
  dispose(): void;
}

export interface LossParts {
  total: tf.Scalar;
  main: number;
  cavpt: number;
  correct: number;
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
    const { method } = settings;
    const { vision, text } = clip;
    // A TrialConfigError before any tensor exists, so the trainer reports a config failure instead of a crash.
    throwIfAny(
      promptProblems(settings, {
        visionLayers: vision.numLayers,
        textContextLength: text.contextLength,
        countTokens: (words) => tokenizer.tokenize(words).length,
      }),
    );
    this.plan = planFor(method, settings, vision.numLayers);
    this.vptLength = settings.vpt.length;
    // Initialisation order (one generator): text ctx, VPT ctx, CAVPT modules in order.
    if (method === 'coop' || method === 'vlp' || method === 'dpt') {
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
    return this.method === 'dpt' ? Math.min(this.settings.cavpt.kN, numClasses) : 0;
  }

  buildClassContext(classnames: string[], template: string): ClassContext {
    if (classnames.length === 0) throw new Error('class list is empty');
    const texts = classnames.map((name) => template.replace('{}', cleanClassname(name)));
    const { ids, eotIndex } = this.tokenizer.encode(texts);
    // Frozen and computed once, without a tape; chunked so the text tower's intermediates stay bounded too.
    const handFeatures = concatChunks(ids.length, this.textChunkSize, ({ start, size }) =>
      tf.tidy(() => {
        const emb = this.clip.text.tokenEmbedding(ids.slice(start, start + size));
        return l2Normalize(this.clip.text.encodeEmbeddings(emb, eotIndex.slice(start, start + size))) as tf.Tensor2D;
      }),
    );
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
    return tf.tidy(() => {
      const { vision } = this.clip;
      let x = vision.embed(pixels);
      for (let l = 0; l < vision.numLayers; l++) x = vision.block(l, x);
      return l2Normalize(vision.head(x)) as tf.Tensor2D;
    });
  }

  /** Top-K classes by zero-shot score (§1.3), no labels involved. */
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
  ): { features: tf.Tensor2D; layerLogits: tf.Tensor3D[] } {
    const { vision } = this.clip;
    let x = vision.embed(pixels);
    const [b, n, d] = x.shape;
    const layerLogits: tf.Tensor3D[] = [];
    const vptCtx = this.store.has(VPT_CTX_KEY) ? this.store.get(VPT_CTX_KEY) : null;
    for (let l = 0; l < vision.numLayers; l++) {
      const inj = this.plan.blocks[l]!;
      let extra: tf.Tensor3D | null = null;
      if (inj.kind === 'vpt' && vptCtx) {
        const row = tf.slice(vptCtx, [inj.row, 0, 0], [1, this.vptLength, d]);
        extra = tf.tile(row, [b, 1, 1]) as tf.Tensor3D;
      } else if (inj.kind === 'cavpt' && tSel && tSel.shape[1] > 0) {
        // Keys/values see the block input without gradient (L389); the queries keep theirs (into the text ctx).
        const xIn = stopGradient(x) as tf.Tensor3D;
        const out = this.cavpt[inj.module]!.forward(xIn, tSel, withCavptLogits);
        extra = out.prompts;
        if (out.logits) layerLogits.push(out.logits);
      }
      if (extra) {
        const y = vision.block(l, tf.concat([x, extra], 1) as tf.Tensor3D);
        x = tf.slice(y, [0, 0, 0], [b, n, d]);
      } else {
        x = vision.block(l, x);
      }
    }
    return { features: vision.head(x), layerLogits };
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
  ): LossParts {
    const scale = this.clip.logitScale();
    const oneHot = tf.oneHot(tf.tensor1d(inputs.labels, 'int32'), ctx.classnames.length).toFloat();
    const { epoch, loss } = inputs;
    let logits: tf.Tensor;
    let main: tf.Scalar;
    let cavptTerm: tf.Scalar | null = null;
    switch (this.method) {
      case 'zeroshot':
        throw new Error('zero-shot CLIP has nothing to train');
      case 'coop': {
        const tn = l2Normalize(this.textFeatures(ctx));
        logits = tf.mul(tf.matMul(f0!, tn, false, true), scale);
        main = crossEntropy(logits, oneHot);
        break;
      }
      case 'vpt': {
        const img = l2Normalize(this.encodeImage(inputs.pixels, null, false).features);
        logits = tf.mul(tf.matMul(img, ctx.handFeatures, false, true), scale);
        main = crossEntropy(logits, oneHot);
        break;
      }
      case 'vlp':
      case 'dpt': {
        const t = this.textFeatures(ctx);
        const tn = l2Normalize(t);
        const tSel = this.method === 'dpt' && indices ? selectRows(t, indices) : null;
        const withLogits = this.method === 'dpt' && mask.selectedPerLayer > 0 && loss.alpha > 0;
        const encoded = this.encodeImage(inputs.pixels, tSel, withLogits);
        const img = l2Normalize(encoded.features);
        logits = tf.mul(tf.matMul(img, tn, false, true), scale);
        const logits1 = tf.mul(tf.matMul(f0!, tn, false, true), scale);
        const logits2 = tf.mul(tf.matMul(img, ctx.handFeatures, false, true), scale);
        main = warmupMainLoss({
          epoch,
          warmupEpochs: loss.warmupEpochs,
          beta: loss.beta,
          logits,
          logits1,
          logits2,
          oneHot,
        });
        if (withLogits) cavptTerm = cavptLoss(encoded.layerLogits, mask, oneHot);
        break;
      }
    }
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

  /** Test-time logits [B, C] (the main `logits`, §1.6). `textFeatures` is precomputed once per class context. */
  predictLogits(pixels: tf.Tensor4D, ctx: ClassContext, textFeatures: tf.Tensor2D | null): tf.Tensor2D {
    return tf.tidy(() => {
      const scale = this.clip.logitScale();
      const classifier = textFeatures ? l2Normalize(textFeatures) : ctx.handFeatures;
      let img: tf.Tensor;
      if (this.method === 'zeroshot' || this.method === 'coop') {
        img = this.zeroShotFeatures(pixels);
      } else {
        let tSel: tf.Tensor3D | null = null;
        if (this.method === 'dpt' && textFeatures && this.topK(ctx.classnames.length) > 0) {
          const f0 = this.zeroShotFeatures(pixels);
          const rows = this.selectTopK(f0, ctx);
          tSel = selectRows(textFeatures, indexTensor(rows));
        }
        img = l2Normalize(this.encodeImage(pixels, tSel, false).features);
      }
      return tf.mul(tf.matMul(img, classifier, false, true), scale) as tf.Tensor2D;
    });
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

function planFor(method: Method, settings: MethodSettings, numLayers: number): LayerPlan {
  switch (method) {
    case 'zeroshot':
    case 'coop':
      return noPromptPlan(numLayers);
    case 'vpt':
    case 'vlp':
      return vptOnlyPlan(numLayers, settings.vpt.layers);
    case 'dpt':
      return dptPlan(numLayers, settings.cavpt.mode, settings.cavpt.layers);
  }
}

/** Keys of CAVPT tensors PyTorch would still step (with a zero gradient) when K = 0: all but LN-before-classifier and classifier. */
export function zeroLengthCavptKeys(model: PromptedClip): string[] {
  return model.store
    .inGroup('cavpt')
    .map((p) => p.key)
    .filter((key) => !key.includes('.classifier.') && !/\.ln\./.test(key));
}
