import path from 'node:path';
import { trainTransform } from '../../data/augment.ts';
import { type DatasetName, isDatasetName, loadDataset } from '../../data/datasets/index.ts';
import { fewShotSplit } from '../../data/fewshot.ts';
import { clipEvalTransform } from '../../data/image.ts';
import { initBackend } from '../backend.ts';
import { loadClip } from '../clip/index.ts';
import type { TrialDeps } from './deps.ts';

function datasetName(name: string): DatasetName {
  if (!isDatasetName(name)) throw new Error(`unknown dataset ${name}`);
  return name;
}

/** The real I/O: CoOp-layout datasets with official few-shot splits, CLIP weights from disk, PIL-like transforms. */
export const defaultDeps: TrialDeps = {
  initBackend,
  async loadClip(dir) {
    const { model, tokenizer } = await loadClip(dir);
    return { model, tokenizer };
  },
  async loadSource(cfg) {
    const ds = await loadDataset(datasetName(cfg.dataset), cfg.root);
    const cacheDir = cfg.splitCacheDir ?? path.join(ds.datasetDir, 'split_fewshot');
    const split = await fewShotSplit(ds, cfg.shots, cfg.seed, cacheDir);
    return {
      classnames: ds.classnames,
      template: ds.template,
      train: split.train,
      test: ds.test,
      val: split.val,
      splitId: split.splitId,
    };
  },
  async loadTarget(name, root) {
    const ds = await loadDataset(datasetName(name), root);
    return { classnames: ds.classnames, template: ds.template, test: ds.test };
  },
  trainImage: (item, rng, size) => trainTransform(item.impath, rng, size),
  testImage: (item, size) => clipEvalTransform(item.impath, size),
};
