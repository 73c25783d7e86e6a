import type { Item } from '../../data/datasets/types.ts';
import type { PythonRandom } from '../../data/python-random.ts';
import type { LoadedClip as LoadedClipFiles } from '../clip/index.ts';
import type { TrialConfig } from '../trial-config.ts';

/** The trial's training data: few-shot train split, full test split, class list and hand-crafted template. */
export interface SourceData {
  classnames: string[];
  template: string;
  train: Item[];
  test: Item[];
  /** the few-shot validation picks (min(shots, 4) per class, data/fewshot.ts); what a search ranks by */
  val?: Item[];
  splitId?: string;
}

export interface TargetData {
  classnames: string[];
  template: string;
  test: Item[];
}

/** What the trainer takes of a loaded CLIP: the model and its tokenizer (not the layout and files it came from). */
export type LoadedClip = Pick<LoadedClipFiles, 'model' | 'tokenizer'>;

/**
 * Everything runTrial needs from the outside world. The defaults (default-deps.ts) read CoOp-layout datasets and
 * CLIP weights from disk; tests replace pieces (e.g. an in-memory tiny CLIP) without touching the training logic.
 */
export interface TrialDeps {
  initBackend(): Promise<{ name: string }>;
  loadClip(dir: string): Promise<LoadedClip>;
  loadSource(cfg: TrialConfig): Promise<SourceData>;
  loadTarget(name: string, root: string): Promise<TargetData>;
  /** RandomResizedCrop + flip + normalise; every draw from `rng` */
  trainImage(item: Item, rng: PythonRandom, size: number): Promise<Float32Array>;
  /** resize shorter side, centre crop, normalise */
  testImage(item: Item, size: number): Promise<Float32Array>;
}
