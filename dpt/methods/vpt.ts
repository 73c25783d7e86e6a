import { vptOnlyPlan } from '../prompts/layer-plan.ts';
import type { MethodDef } from './method.ts';
import { TRAINING, VISUAL_PROMPT } from './settings.ts';

/** VPT-deep: prompted image features × hand-crafted text features; cross-entropy. */
export const vpt: MethodDef = {
  summary: 'VPT-deep: learned visual prompts, hand-crafted text prompts',
  reads: [...TRAINING, ...VISUAL_PROMPT, 'vpt.layers'],
  trains: ['visual'],
  plan: (settings, visionLayers) => vptOnlyPlan(visionLayers, settings.vpt.layers),
  image: 'prompted',
  classAware: false,
  frozenFeaturesInLoss: false,
  trainLoss(parts) {
    const image = parts.l2Normalize(parts.promptedImage(null, false).features);
    const logits = parts.logits(image, parts.handText);
    return { logits, main: parts.crossEntropy(logits), cavpt: null };
  },
};
