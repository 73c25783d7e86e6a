export type { Activation, ClipConfig, TextConfig, VisionConfig } from './config.ts';
export { ClipLoadError } from './errors.ts';
export { ClipModel, type LoadClipOptions, type LoadedClip, loadClip } from './model.ts';
export { encodeSafetensors, hfConfigJson, type SaveHfOptions, saveHf, toHfTensors } from './save-hf.ts';
export { fillTemplate, TEMPLATES, type TemplateDataset } from './templates.ts';
export { TextTower } from './text.ts';
export { ClipTokenizer, type EncodedTexts } from './tokenizer.ts';
export { type InjectFn, VisionTower } from './vision.ts';
export { l2Normalize, zeroShotClassifier, zeroShotLogits } from './zero-shot.ts';
