import { noPromptPlan } from '../prompts/layer-plan.ts';
import type { MethodDef } from './method.ts';
import { TEXT_PROMPT, TRAINING } from './settings.ts';

/** CoOp: frozen image features × learned text context; cross-entropy. */
export const coop: MethodDef = {
  summary: 'CoOp: learned text context, frozen image encoder',
  reads: [...TRAINING, ...TEXT_PROMPT],
  trains: ['text'],
  plan: (_settings, visionLayers) => noPromptPlan(visionLayers),
  image: 'frozen',
  classAware: false,
  frozenFeaturesInLoss: true,
  trainLoss(parts) {
    const text = parts.l2Normalize(parts.learnedText());
    const logits = parts.logits(parts.frozenImage!, text);
    return { logits, main: parts.crossEntropy(logits), cavpt: null };
  },
};
