import { DatasetError } from '../errors.ts';
import { DATASET_NAMES, type DatasetInfo, type DatasetName } from './types.ts';

const PHOTO = 'a photo of a {}.';

/** Class renames of CoOp's `datasets/eurosat.py` (NEW_CNAMES), kept for reference; see `DatasetInfo.renames`. */
export const EUROSAT_RENAMES: Readonly<Record<string, string>> = {
  AnnualCrop: 'Annual Crop Land',
  Forest: 'Forest',
  HerbaceousVegetation: 'Herbaceous Vegetation Land',
  Highway: 'Highway or Road',
  Industrial: 'Industrial Buildings',
  Pasture: 'Pasture Land',
  PermanentCrop: 'Permanent Crop Land',
  Residential: 'Residential Buildings',
  River: 'River',
  SeaLake: 'Sea or Lake',
};

/** Class renames of CoOp's `datasets/caltech101.py` (NEW_CNAMES). */
export const CALTECH101_RENAMES: Readonly<Record<string, string>> = {
  airplanes: 'airplane',
  Faces: 'face',
  Leopards: 'leopard',
  Motorbikes: 'motorbike',
};

function splitJson(
  name: DatasetName,
  officialName: string,
  folder: string,
  imageDir: string,
  template: string,
  expected: DatasetInfo['expected'],
  extra: Partial<DatasetInfo> = {},
): DatasetInfo {
  return {
    name,
    officialName,
    folder,
    layout: 'split-json',
    imageDir,
    requiredFiles: [`split_zhou_${officialName}.json`],
    template,
    expected,
    role: 'benchmark',
    ...extra,
  };
}

const SYNTH_SIZES: DatasetInfo['expected'] = { classes: 6, train: 96, val: 24, test: 300 };
const SYNTHETIC: Partial<DatasetInfo> = { role: 'synthetic' };

/**
 * The 11 benchmarks and 4 domain-shift sets, with the folders of CoOp's `datasets/*.py` (data/README.md), the
 * templates of DPT.py's CUSTOM_TEMPLATES (DPT.py:25-41) and the sizes of CoOp's table, then the quick-start tasks.
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = {
  imagenet: {
    name: 'imagenet',
    officialName: 'ImageNet',
    folder: 'imagenet',
    layout: 'imagenet-folders',
    imageDir: 'images',
    requiredFiles: ['classnames.txt'],
    template: PHOTO,
    // The train count is ILSVRC-2012's; CoOp's table lists only the 50,000 test (= val folder) images.
    expected: { classes: 1000, train: 1_281_167, val: null, test: 50_000 },
    role: 'benchmark',
  },
  caltech101: splitJson(
    'caltech101',
    'Caltech101',
    'caltech-101',
    '101_ObjectCategories',
    PHOTO,
    { classes: 100, train: 4128, val: 1649, test: 2465 },
    { renames: CALTECH101_RENAMES, ignoredClasses: ['BACKGROUND_Google', 'Faces_easy'] },
  ),
  oxford_pets: splitJson('oxford_pets', 'OxfordPets', 'oxford_pets', 'images', 'a photo of a {}, a type of pet.', {
    classes: 37,
    train: 2944,
    val: 736,
    test: 3669,
  }),
  stanford_cars: splitJson('stanford_cars', 'StanfordCars', 'stanford_cars', '', PHOTO, {
    classes: 196,
    train: 6509,
    val: 1635,
    test: 8041,
  }),
  oxford_flowers: splitJson(
    'oxford_flowers',
    'OxfordFlowers',
    'oxford_flowers',
    'jpg',
    'a photo of a {}, a type of flower.',
    { classes: 102, train: 4093, val: 1633, test: 2463 },
  ),
  food101: splitJson('food101', 'Food101', 'food-101', 'images', 'a photo of {}, a type of food.', {
    classes: 101,
    train: 50_500,
    val: 20_200,
    test: 30_300,
  }),
  fgvc_aircraft: {
    name: 'fgvc_aircraft',
    officialName: 'FGVCAircraft',
    folder: 'fgvc_aircraft',
    layout: 'fgvc-text',
    imageDir: 'images',
    requiredFiles: ['variants.txt', 'images_variant_train.txt', 'images_variant_val.txt', 'images_variant_test.txt'],
    template: 'a photo of a {}, a type of aircraft.',
    expected: { classes: 100, train: 3334, val: 3333, test: 3333 },
    role: 'benchmark',
  },
  sun397: splitJson('sun397', 'SUN397', 'sun397', 'SUN397', PHOTO, {
    classes: 397,
    train: 15_880,
    val: 3970,
    test: 19_850,
  }),
  dtd: splitJson('dtd', 'DescribableTextures', 'dtd', 'images', '{} texture.', {
    classes: 47,
    train: 2820,
    val: 1128,
    test: 1692,
  }),
  eurosat: splitJson(
    'eurosat',
    'EuroSAT',
    'eurosat',
    '2750',
    'a centered satellite photo of {}.',
    { classes: 10, train: 13_500, val: 5400, test: 8100 },
    { renames: EUROSAT_RENAMES },
  ),
  ucf101: splitJson('ucf101', 'UCF101', 'ucf101', 'UCF-101-midframes', 'a photo of a person doing {}.', {
    classes: 101,
    train: 7639,
    val: 1898,
    test: 3783,
  }),
  imagenet_v2: {
    name: 'imagenet_v2',
    officialName: 'ImageNetV2',
    folder: 'imagenetv2',
    layout: 'imagenet-v2',
    imageDir: 'imagenetv2-matched-frequency-format-val',
    requiredFiles: ['classnames.txt'],
    template: PHOTO,
    expected: { classes: 1000, train: null, val: null, test: 10_000 },
    role: 'domain-shift',
  },
  imagenet_sketch: {
    name: 'imagenet_sketch',
    officialName: 'ImageNetSketch',
    folder: 'imagenet-sketch',
    layout: 'imagenet-variant',
    imageDir: 'images',
    requiredFiles: ['classnames.txt'],
    template: PHOTO,
    expected: { classes: 1000, train: null, val: null, test: 50_889 },
    role: 'domain-shift',
  },
  imagenet_a: {
    name: 'imagenet_a',
    officialName: 'ImageNetA',
    folder: 'imagenet-adversarial',
    layout: 'imagenet-variant',
    imageDir: 'imagenet-a',
    requiredFiles: ['classnames.txt'],
    template: PHOTO,
    expected: { classes: 200, train: null, val: null, test: 7500 },
    role: 'domain-shift',
    ignoredEntries: ['README.txt'],
  },
  imagenet_r: {
    name: 'imagenet_r',
    officialName: 'ImageNetR',
    folder: 'imagenet-rendition',
    layout: 'imagenet-variant',
    imageDir: 'imagenet-r',
    requiredFiles: ['classnames.txt'],
    template: PHOTO,
    expected: { classes: 200, train: null, val: null, test: 30_000 },
    role: 'domain-shift',
    ignoredEntries: ['README.txt'],
  },
  // The generated quick-start tasks (data/synthetic/tasks.ts), each with the template phrased like the captions the
  // small synthetic CLIP was pretrained on. Sizes are the generator's defaults: 6 classes, 16/4/50 images per class.
  synth_shape: splitJson('synth_shape', 'SynthShape', 'synth_shape', 'images', 'a {}.', SYNTH_SIZES, SYNTHETIC),
  synth_colour: splitJson(
    'synth_colour',
    'SynthColour',
    'synth_colour',
    'images',
    'a {} shape.',
    SYNTH_SIZES,
    SYNTHETIC,
  ),
  synth_target: splitJson(
    'synth_target',
    'SynthTarget',
    'synth_target',
    'images',
    'a large {}.',
    SYNTH_SIZES,
    SYNTHETIC,
  ),
  synth_target_colour: splitJson(
    'synth_target_colour',
    'SynthTargetColour',
    'synth_target_colour',
    'images',
    'a large {} shape.',
    SYNTH_SIZES,
    SYNTHETIC,
  ),
};

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

export function datasetInfo(name: string): DatasetInfo {
  if (!isDatasetName(name)) {
    throw new DatasetError(`unknown dataset "${name}"; known: ${DATASET_NAMES.join(', ')}`, 'unknown-dataset');
  }
  return DATASETS[name];
}

/** DPT's prompt for a class: underscores become spaces, then the template's `{}` is filled. */
export function formatPrompt(template: string, classname: string): string {
  return template.replace('{}', classname.replaceAll('_', ' '));
}
