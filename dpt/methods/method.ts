import type * as tf from '@tensorflow/tfjs';
import type { ParamGroupName } from '../params.ts';
import type { LayerPlan } from '../prompts/layer-plan.ts';
import type { TrialConfig } from '../trial-config.ts';
import type { TrialSetting } from './settings.ts';

/**
 * What a prompt-tuning method is, as the trainer and the sweep planner see it. One module per method declares it
 * (dpt/methods/zeroshot.ts, coop.ts, vpt.ts, vlp.ts, dpt.ts) and dpt/methods/registry.ts lists them, like the trainer
 * registry of CoOp's Dassl. The tensor work (CLIP towers, prompts, CAVPT) is the shared PromptedClip
 * (dpt/methods/model.ts); a method composes its training loss from the parts that engine hands it, so these modules
 * load no TF.js at run time and the sweep planner can read them.
 */
export interface MethodDef {
  /** one line for `--help` texts and docs */
  summary: string;
  /** every trial setting the method reads; the others are reset to their defaults when a sweep is expanded */
  reads: readonly TrialSetting[];
  /** the parameter groups it trains (dpt/params.ts), empty for a method that trains nothing */
  trains: readonly ParamGroupName[];
  /** what is appended to the tokens of each vision block */
  plan(settings: MethodSettings, visionLayers: number): LayerPlan;
  /** image features the classifier sees: CLIP's own (frozen) or those of the prompted vision tower */
  image: 'frozen' | 'prompted';
  /**
   * Class-aware: the top K = min(K_N, C) zero-shot classes of each image select the learned text features that feed
   * CAVPT (docs/method.md).
   */
  classAware: boolean;
  /** whether the training loss needs the frozen CLIP image features, computed once per batch outside the tape */
  frozenFeaturesInLoss: boolean;
  /** the training loss of one batch, built inside tf.variableGrads; absent for a method that trains nothing */
  trainLoss?(parts: LossParts): MethodLoss;
}

/** The settings the prompted model is built from. */
export type MethodSettings = Pick<TrialConfig, 'method' | 'text' | 'vpt' | 'cavpt'>;

/** The parts of one batch's forward pass that PromptedClip offers a method's loss. */
export interface LossParts {
  /**
   * The TF.js namespace, for a method's own loss terms: a method module must not import TF.js at run time, since the
   * sweep planner loads the registry in the CLI.
   */
  tf: typeof tf;
  epoch: number;
  loss: TrialConfig['loss'];
  /** L2-normalised frozen CLIP image features f0 [B, D]; null unless `frozenFeaturesInLoss` */
  frozenImage: tf.Tensor2D | null;
  /** L2-normalised hand-crafted text features [C, D] (frozen) */
  handText: tf.Tensor2D;
  /** whether any ground-truth class landed in a top-K selection of this batch (L_cavpt has rows) */
  cavptSelected: boolean;
  /** the learned text features [C, D], unnormalised */
  learnedText(): tf.Tensor2D;
  l2Normalize(x: tf.Tensor2D): tf.Tensor2D;
  /**
   * The prompted image encoder. With `classText` (unnormalised learned text features) and a top-K selection, the
   * selected rows feed CAVPT; `withCavptLogits` also returns each CAVPT application's classifier logits.
   */
  promptedImage(
    classText: tf.Tensor2D | null,
    withCavptLogits: boolean,
  ): { features: tf.Tensor2D; layerLogits: tf.Tensor3D[] };
  /** CLIP's logits: logit scale × image · textᵀ */
  logits(image: tf.Tensor2D, text: tf.Tensor2D): tf.Tensor2D;
  crossEntropy(logits: tf.Tensor2D): tf.Scalar;
  /** the general-knowledge warm-up loss for the first C epochs, plain CE on `logits` after (dpt/losses.ts) */
  warmupLoss(logits: tf.Tensor2D, logits1: tf.Tensor2D, logits2: tf.Tensor2D): tf.Scalar;
  /** L_cavpt over the CAVPT applications' logits (dpt/losses.ts); null when no application has a selected row */
  cavptLoss(layerLogits: tf.Tensor3D[]): tf.Scalar | null;
}

export interface MethodLoss {
  /** the logits whose argmax is the prediction (test time uses the same path) */
  logits: tf.Tensor2D;
  main: tf.Scalar;
  /** L_cavpt, added with weight α; null when it is not computed */
  cavpt: tf.Scalar | null;
}
