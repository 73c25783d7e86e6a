export type { Activation, ClipConfig, TextConfig, VisionConfig } from './config.ts';
export { ClipLoadError } from './errors.ts';
export { ClipModel, type LoadClipOptions, type LoadedClip, loadClip } from './model.ts';
export { MODEL_CONFIG_NAMES, MODEL_CONFIGS, type ModelConfigName, modelConfig } from './model-configs.ts';
export { TextTower } from './text.ts';
export { ClipTokenizer, type EncodedTexts } from './tokenizer.ts';
export { type InjectFn, type ObserveFn, VisionTower } from './vision.ts';
export { zeroShotClassifier, zeroShotLogits } from './zero-shot.ts';
