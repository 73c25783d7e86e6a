/**
 * The trial settings a method may read: every leaf of TrialConfig's text, vpt, cavpt, loss and optim groups. A method
 * module (dpt/methods/<name>.ts) lists the ones it reads; the sweep planner resets the rest to their defaults
 * (sweep/expand.ts) so that a value the method never reads cannot split identical trials, and the sweep axes and
 * factors take from the same lists which methods an axis changes (sweep/axes.ts, sweep/factors.ts). Pure.
 */
export const TRIAL_SETTINGS = [
  'text.nCtx',
  'text.ctxInit',
  'vpt.length',
  'vpt.layers',
  'cavpt.mode',
  'cavpt.layers',
  'cavpt.kN',
  'cavpt.ctxTokens',
  'loss.alpha',
  'loss.beta',
  'loss.warmupEpochs',
  'optim.epochs',
  'optim.batchSize',
  'optim.lrVisual',
  'optim.lrText',
  'optim.lrWarmupEpochs',
  'optim.textLrWarmupEpochs',
  'optim.warmupLr',
  'optim.momentum',
  'optim.weightDecay',
] as const;

export type TrialSetting = (typeof TRIAL_SETTINGS)[number];

/** What every trained method reads: the epoch budget, the batch and the SGD settings shared by its groups. */
export const TRAINING: readonly TrialSetting[] = [
  'optim.epochs',
  'optim.batchSize',
  'optim.warmupLr',
  'optim.momentum',
  'optim.weightDecay',
];

/** CoOp's learned text context and the schedule of its parameter group. */
export const TEXT_PROMPT: readonly TrialSetting[] = [
  'text.nCtx',
  'text.ctxInit',
  'optim.lrText',
  'optim.textLrWarmupEpochs',
];

/** VPT-deep prompt tokens and the schedule of the visual group (which CAVPT's modules share). */
export const VISUAL_PROMPT: readonly TrialSetting[] = ['vpt.length', 'optim.lrVisual', 'optim.lrWarmupEpochs'];

/** The general-knowledge warm-up loss: CE(logits1) + CE(logits2) + β·CE(logits) for the first C epochs (dpt/losses.ts). */
export const WARMUP_LOSS: readonly TrialSetting[] = ['loss.beta', 'loss.warmupEpochs'];
