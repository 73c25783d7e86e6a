/** The procedural tasks of data/synthetic/tasks.ts, datasets of their own (not among the paper's benchmarks). */
export const SYNTHETIC_DATASET_NAMES = ['synth_shape', 'synth_colour', 'synth_target', 'synth_target_colour'] as const;
export type SyntheticDatasetName = (typeof SYNTHETIC_DATASET_NAMES)[number];

export const DATASET_NAMES = [
  'imagenet',
  'caltech101',
  'oxford_pets',
  'stanford_cars',
  'oxford_flowers',
  'food101',
  'fgvc_aircraft',
  'sun397',
  'dtd',
  'eurosat',
  'ucf101',
  'imagenet_v2',
  'imagenet_sketch',
  'imagenet_a',
  'imagenet_r',
  ...SYNTHETIC_DATASET_NAMES,
] as const;

export type DatasetName = (typeof DATASET_NAMES)[number];

export interface Item {
  /** Absolute path of the image file. */
  impath: string;
  /** 0-based class index into `DatasetSplits.classnames`. */
  label: number;
  /** The class name as the official reader produces it (already renamed where the official code renames). */
  classname: string;
}

export interface DatasetSplits {
  name: DatasetName;
  /** The DATASET.ROOT directory the dataset folder lives in; few-shot split ids hash paths relative to it. */
  root: string;
  /** `<root>/<folder>`. */
  datasetDir: string;
  /** Class names in label order, derived like Dassl's `get_lab2cname` (from train, or test for test-only sets). */
  classnames: string[];
  /** The single hand-crafted template (DPT.py:25-41, docs/method.md §13), with `{}` for the class name. */
  template: string;
  train: Item[];
  /** Empty for ImageNet (the official code aliases val to test and never uses it) and the test-only sets. */
  val: Item[];
  test: Item[];
}

/** How the official reader finds the items of a dataset. */
export type DatasetLayout =
  /** `split_zhou_<Name>.json` with `[relpath, label, classname]` triples, paths relative to `imageDir`. */
  | 'split-json'
  /** FGVCAircraft: `variants.txt` and `images_variant_{train,val,test}.txt`. */
  | 'fgvc-text'
  /** ImageNet: `images/train/<wnid>/`, `images/val/<wnid>/` and `classnames.txt`. */
  | 'imagenet-folders'
  /** ImageNetV2: `<imageDir>/<label>/` for each line of `classnames.txt`, in file order. */
  | 'imagenet-v2'
  /** ImageNet-Sketch/-A/-R: `<imageDir>/<wnid>/`, labels by sorted folder order. */
  | 'imagenet-variant';

export interface ExpectedSizes {
  classes: number;
  /** null where the split does not exist. */
  train: number | null;
  val: number | null;
  test: number;
}

export interface DatasetInfo {
  name: DatasetName;
  /** The config NAME of the official code (`DATASET.NAME`). */
  officialName: string;
  /** Folder under the dataset root. */
  folder: string;
  layout: DatasetLayout;
  /** Image directory relative to the dataset folder ('' when split paths are relative to the folder itself). */
  imageDir: string;
  /** Split/metadata file(s) relative to the dataset folder that must exist. */
  requiredFiles: string[];
  template: string;
  expected: ExpectedSizes;
  /**
   * Benchmarks are trained on; domain-shift sets are test-only targets of ImageNet-trained prompts; synthetic sets are
   * the generated quick-start tasks, trained on like benchmarks but never part of the paper's groups.
   */
  role: 'benchmark' | 'domain-shift' | 'synthetic';
  /** Folder entries the official reader skips (ImageNet-A/R: README.txt). */
  ignoredEntries?: string[];
  /**
   * Renames the official code applies to raw folder names, but only while building a split from folders when the
   * JSON file is absent; the published JSON already holds the renamed strings, so readers never apply these.
   */
  renames?: Readonly<Record<string, string>>;
  /** Raw folders the official split builder ignores (Caltech101). Informational, like `renames`. */
  ignoredClasses?: string[];
}
