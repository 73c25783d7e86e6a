import { dptPlan } from '../prompts/layer-plan.ts';
import type { MethodDef } from './method.ts';
import { TEXT_PROMPT, TRAINING, VISUAL_PROMPT, WARMUP_LOSS } from './settings.ts';
import { dualModalityLoss } from './vlp.ts';

/**
 * DPT: CoOp + VPT-deep + CAVPT. Three logits, the warm-up loss and α·L_cavpt; CAVPT occupies `cavpt.layers` blocks
 * (top-down, bottom-up or one shared module) and VPT-deep the rest (dpt/prompts/layer-plan.ts).
 */
export const dpt: MethodDef = {
  summary: 'DPT: CoOp + VPT-deep + class-aware visual prompts (CAVPT)',
  reads: [
    ...TRAINING,
    ...TEXT_PROMPT,
    ...VISUAL_PROMPT,
    ...WARMUP_LOSS,
    'loss.alpha',
    'cavpt.mode',
    'cavpt.layers',
    'cavpt.kN',
    'cavpt.ctxTokens',
  ],
  trains: ['visual', 'cavpt', 'text'],
  plan: (settings, visionLayers) => dptPlan(visionLayers, settings.cavpt.mode, settings.cavpt.layers),
  image: 'prompted',
  classAware: true,
  frozenFeaturesInLoss: true,
  trainLoss: (parts) => dualModalityLoss(parts, true),
};
