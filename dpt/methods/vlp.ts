import { vptOnlyPlan } from '../prompts/layer-plan.ts';
import type { LossParts, MethodDef, MethodLoss } from './method.ts';
import { TEXT_PROMPT, TRAINING, VISUAL_PROMPT, WARMUP_LOSS } from './settings.ts';

/** VLP: CoOp + VPT-deep in every block, trained with DPT's general-knowledge warm-up loss (no CAVPT). */
export const vlp: MethodDef = {
  summary: 'VLP: CoOp + VPT-deep with the warm-up loss, no CAVPT',
  reads: [...TRAINING, ...TEXT_PROMPT, ...VISUAL_PROMPT, 'vpt.layers', ...WARMUP_LOSS],
  trains: ['text', 'visual'],
  plan: (settings, visionLayers) => vptOnlyPlan(visionLayers, settings.vpt.layers),
  image: 'prompted',
  classAware: false,
  frozenFeaturesInLoss: true,
  trainLoss: (parts) => dualModalityLoss(parts, false),
};

/**
 * The loss VLP and DPT share: the main logits pair prompted image and learned text features; logits1 pairs the frozen
 * image features with the learned text, logits2 the prompted image with the hand-crafted text (the frozen other
 * modality, docs/method.md). With `classAware` the top-K learned text rows feed CAVPT, whose classifier adds L_cavpt.
 */
export function dualModalityLoss(parts: LossParts, classAware: boolean): MethodLoss {
  const text = parts.learnedText();
  const textNormalised = parts.l2Normalize(text);
  const withCavptLogits = classAware && parts.cavptSelected && parts.loss.alpha > 0;
  const encoded = parts.promptedImage(classAware ? text : null, withCavptLogits);
  const image = parts.l2Normalize(encoded.features);
  const logits = parts.logits(image, textNormalised);
  const logits1 = parts.logits(parts.frozenImage!, textNormalised);
  const logits2 = parts.logits(image, parts.handText);
  const main = parts.warmupLoss(logits, logits1, logits2);
  return { logits, main, cavpt: withCavptLogits ? parts.cavptLoss(encoded.layerLogits) : null };
}
