import { noPromptPlan } from '../prompts/layer-plan.ts';
import type { MethodDef } from './method.ts';

/** Zero-shot CLIP: frozen image features × hand-crafted text features (one template per dataset). Trains nothing. */
export const zeroshot: MethodDef = {
  summary: 'zero-shot CLIP: frozen image features × hand-crafted prompts',
  reads: [],
  trains: [],
  plan: (_settings, visionLayers) => noPromptPlan(visionLayers),
  image: 'frozen',
  classAware: false,
  frozenFeaturesInLoss: false,
};
