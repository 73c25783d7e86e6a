import type { ClipConfig } from './clip/config.ts';
import { basicClean } from './clip/text-clean.ts';
import type { MethodSettings } from './methods/method.ts';
import { methodDef, readsSetting, trainsAnything } from './methods/registry.ts';
import type { TrialConfig } from './trial-config.ts';
import { TrialConfigError } from './trial-config.ts';

/**
 * Whether a resolved trial can run at all and trains something. The trainer's schema accepts each value on its own;
 * these are the combinations that would fail at the first step (VPT with no prompt tokens: "variableGrads() expects at
 * least one of the input variables to be trainable"), fail while building the model (CAVPT deeper than the vision
 * tower), or finish having trained nothing (0 epochs, every trained group at learning rate 0) and report the untrained
 * prompts as a result. The sweep planner checks every cell with these rules before anything is launched, and the
 * trainer checks again before it loads data, so such a config is a non-retryable config failure, never a run.
 * Pure (no tfjs, no Node built-ins): the sweep planner (sweep/validate.ts) runs it in the CLI.
 */

/** The sizes of the CLIP a trial runs on that decide whether its prompts fit. */
export interface ModelSizes {
  /** transformer blocks of the vision tower (12 for ViT-B) */
  visionLayers: number;
  /** token positions of the text tower (77 for OpenAI's CLIP) */
  textContextLength: number;
  /** BPE tokens of a text without SOS/EOS, by the model's tokenizer; makes the text.ctxInit checks exact */
  countTokens?: (text: string) => number;
}

/** One reason a trial cannot run; `path` is the TrialConfig key path, e.g. `vpt.length`. */
export interface TrialProblem {
  path: string;
  message: string;
}

/** The fields PromptedClip is built from. */
export type PromptSettings = MethodSettings;

/**
 * Positions of a learned text prompt besides its context tokens: SOS, the class name (at least one token) and EOS.
 * With fewer left the class name is cut off entirely (TextPromptLearner.buildClasses refuses that).
 */
export const TEXT_PROMPT_FRAME_TOKENS = 3;

export function modelSizesOf(config: Pick<ClipConfig, 'vision' | 'text'>): ModelSizes {
  return { visionLayers: config.vision.layers, textContextLength: config.text.contextLength };
}

/** ctxInit as TextPromptLearner reads it: '' means a random context, anything else is tokenized. */
export function normalisedCtxInit(ctxInit: string): string {
  return ctxInit.trim().replace(/_/g, ' ');
}

export function emptyCtxInitProblem(ctxInit: string): TrialProblem {
  return {
    path: 'text.ctxInit',
    message: `expected words that give at least one token (or "" for a random context), got ${JSON.stringify(ctxInit)}`,
  };
}

/** The learned text context of `tokens` tokens leaves no room for a class name in the text tower's context. */
export function textContextProblem(path: string, tokens: number, contextLength: number): TrialProblem {
  const room = contextLength - TEXT_PROMPT_FRAME_TOKENS;
  return {
    path,
    message: `expected at most ${room} context tokens, got ${tokens}: the model's ${contextLength}-token text context must also hold SOS, a class name and EOS`,
  };
}

/** Every problem of the trial; model-dependent rules only when the model's sizes are known. */
export function trialProblems(config: TrialConfig, sizes?: ModelSizes): TrialProblem[] {
  return [...promptProblems(config, sizes), ...scheduleProblems(config, sizes)];
}

/** Throws TrialConfigError listing every problem, in the trainer schema's `path: message` form. */
export function assertTrainable(config: TrialConfig, sizes?: ModelSizes): void {
  throwIfAny(trialProblems(config, sizes));
}

export function throwIfAny(problems: readonly TrialProblem[]): void {
  if (problems.length > 0) throw new TrialConfigError(problems.map(({ path, message }) => `${path}: ${message}`));
}

/** Prompts that cannot be built on this model, or that leave the method with no parameters at all. */
export function promptProblems(settings: PromptSettings, sizes?: ModelSizes): TrialProblem[] {
  const { method, text, vpt, cavpt } = settings;
  const problems: TrialProblem[] = [];
  const { trains } = methodDef(method);
  // vlp and dpt still train their text context without VPT tokens; vpt has nothing else.
  if (trains.length === 1 && trains[0] === 'visual' && vpt.length === 0) {
    problems.push({
      path: 'vpt.length',
      message: `expected an integer >= 1 for method ${method}, got 0: its prompt tokens are all it trains`,
    });
  }
  if (trains.includes('text')) problems.push(...textContextProblems(text, sizes));
  if (!sizes) return problems;
  const blocks = sizes.visionLayers;
  const tooDeep = (path: string, layers: number) => ({
    path,
    message: `expected an integer <= ${blocks}, the model's vision blocks, got ${layers}`,
  });
  if (readsSetting(method, 'cavpt.layers') && cavpt.layers > blocks)
    problems.push(tooDeep('cavpt.layers', cavpt.layers));
  if (readsSetting(method, 'vpt.layers') && vpt.layers !== null && vpt.layers > blocks) {
    problems.push(tooDeep('vpt.layers', vpt.layers));
  }
  return problems;
}

/**
 * The learned text context must have at least one token and leave room for a class name. Any class name then fits
 * (its first token, or the '.' after it, stays in the prompt), so the rule does not depend on the dataset.
 */
function textContextProblems(text: PromptSettings['text'], sizes?: ModelSizes): TrialProblem[] {
  const init = normalisedCtxInit(text.ctxInit);
  const room = sizes ? sizes.textContextLength - TEXT_PROMPT_FRAME_TOKENS : Number.POSITIVE_INFINITY;
  const contextLength = sizes?.textContextLength ?? 0;
  if (init === '') return text.nCtx > room ? [textContextProblem('text.nCtx', text.nCtx, contextLength)] : [];
  // With ctxInit its token count replaces nCtx. Without the tokenizer only a text blank after CLIP's cleaning is
  // certain to give no token; TextPromptLearner counts the rest when the trial starts.
  const tokens = sizes?.countTokens ? sizes.countTokens(init) : basicClean(init) === '' ? 0 : undefined;
  if (tokens === 0) return [emptyCtxInitProblem(text.ctxInit)];
  return tokens !== undefined && tokens > room ? [textContextProblem('text.ctxInit', tokens, contextLength)] : [];
}

/** A group of trained tensors and the schedule it is stepped with (dpt/trainer/run-trial.ts trainEpoch). */
interface TrainedGroup {
  /** why the method has no such tensors, or null when it has them */
  absent: string | null;
  lrPath: 'optim.lrVisual' | 'optim.lrText';
  warmupPath: 'optim.lrWarmupEpochs' | 'optim.textLrWarmupEpochs';
  baseLr: number;
  warmupEpochs: number;
}

/** A trained method must run at least one epoch, and some group it has must move after its warm-up. */
export function scheduleProblems(config: TrialConfig, sizes?: ModelSizes): TrialProblem[] {
  const { method, optim } = config;
  if (!trainsAnything(method)) return [];
  if (optim.epochs === 0) {
    return [
      {
        path: 'optim.epochs',
        message: `expected an integer >= 1 for method ${method}, got 0: a trial of 0 epochs trains nothing`,
      },
    ];
  }
  const groups = trainedGroups(config, sizes);
  const present = groups.filter((g) => g.absent === null);
  // After its warm-up a group runs a cosine from its base rate that stays above 0 (dpt/optim/schedule.ts); the
  // warm-up itself is a ramp at a tiny constant rate (1e-5), which is training only when it spans the whole run.
  const moves = (g: TrainedGroup) => (g.warmupEpochs >= optim.epochs ? optim.warmupLr > 0 : g.baseLr > 0);
  if (present.length === 0 || present.some(moves)) return [];
  const still = (g: TrainedGroup) =>
    g.warmupEpochs < optim.epochs
      ? { path: g.lrPath, why: `${g.lrPath} is 0` }
      : { path: 'optim.warmupLr', why: `${g.warmupPath} covers all ${optim.epochs} epochs at optim.warmupLr 0` };
  const reasons = groups.map((g) => (g.absent === null ? still(g) : { path: null, why: g.absent }));
  const problems = new Map<string, TrialProblem>();
  for (const g of present) {
    const { path } = still(g);
    if (problems.has(path)) continue;
    const others = [...new Set(reasons.filter((r) => r.path !== path).map((r) => r.why))];
    const detail =
      path === 'optim.warmupLr'
        ? `${g.warmupPath} (${g.warmupEpochs}) covers all ${optim.epochs} epochs and nothing else of a ${method} trial trains`
        : `nothing else of a ${method} trial trains`;
    problems.set(path, {
      path,
      message: `expected a number > 0, got 0: ${detail}${others.length > 0 ? `, since ${others.join(' and ')}` : ''}`,
    });
  }
  return [...problems.values()];
}

function trainedGroups(config: TrialConfig, sizes?: ModelSizes): TrainedGroup[] {
  const { method, optim, vpt, cavpt } = config;
  const groups: TrainedGroup[] = [];
  const visual = (absent: string | null): TrainedGroup => ({
    absent,
    lrPath: 'optim.lrVisual',
    warmupPath: 'optim.lrWarmupEpochs',
    baseLr: optim.lrVisual,
    warmupEpochs: optim.lrWarmupEpochs,
  });
  const { trains } = methodDef(method);
  if (trains.includes('text')) {
    groups.push({
      absent: null,
      lrPath: 'optim.lrText',
      warmupPath: 'optim.textLrWarmupEpochs',
      baseLr: optim.lrText,
      warmupEpochs: optim.textLrWarmupEpochs,
    });
  }
  if (trains.includes('visual')) {
    // DPT puts VPT-deep prompts only in the blocks CAVPT leaves free (dpt/prompts/layer-plan.ts).
    const filled = trains.includes('cavpt') && sizes !== undefined && cavpt.layers >= sizes.visionLayers;
    groups.push(
      visual(
        vpt.length === 0 ? 'vpt.length is 0' : filled ? `cavpt.layers fills all ${sizes?.visionLayers} blocks` : null,
      ),
    );
  }
  // With K_N = 0 the CAVPT modules never reach the loss: their gradients are zeros (dpt/trainer/step.ts).
  if (trains.includes('cavpt')) groups.push(visual(cavpt.kN === 0 ? 'cavpt.kN is 0' : null));
  return groups;
}
