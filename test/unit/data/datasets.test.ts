import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATASET_NAMES,
  DATASETS,
  type DatasetName,
  datasetInfo,
  formatPrompt,
  loadDataset,
  readDataset,
} from '../../../data/datasets/index.ts';
import { DatasetError } from '../../../data/errors.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dpt-datasets-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function touch(file: string, content = ''): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

/** A fresh DATASET.ROOT per test so cases do not see each other's files. */
async function freshRoot(tag: string): Promise<string> {
  return mkdtemp(path.join(root, `${tag}-`));
}

type Entry = [string, number, string];
async function writeSplitJson(
  r: DatasetName,
  dir: string,
  split: { train: Entry[]; val: Entry[]; test: Entry[] },
  withImages = true,
) {
  const info = DATASETS[r];
  await touch(path.join(dir, info.folder, info.requiredFiles[0] as string), JSON.stringify(split, null, 4));
  if (withImages) {
    for (const [rel] of [...split.train, ...split.val, ...split.test]) {
      await touch(path.join(dir, info.folder, info.imageDir, rel), 'x');
    }
  }
}

const SIMPLE: { train: Entry[]; val: Entry[]; test: Entry[] } = {
  train: [
    ['b/1.jpg', 1, 'Annual Crop Land'],
    ['a/1.jpg', 0, 'Forest'],
    ['a/2.jpg', 0, 'Forest'],
  ],
  val: [['a/3.jpg', 0, 'Forest']],
  test: [
    ['b/2.jpg', 1, 'Annual Crop Land'],
    ['a/4.jpg', 0, 'Forest'],
  ],
};

describe('registry', () => {
  it('has the 15 canonical names with the official templates and sizes', () => {
    expect(Object.keys(DATASETS).sort()).toEqual([...DATASET_NAMES].sort());
    expect(DATASETS.oxford_pets.template).toBe('a photo of a {}, a type of pet.');
    expect(DATASETS.dtd.template).toBe('{} texture.');
    expect(DATASETS.eurosat.template).toBe('a centered satellite photo of {}.');
    expect(DATASETS.ucf101.template).toBe('a photo of a person doing {}.');
    expect(DATASETS.food101.template).toBe('a photo of {}, a type of food.');
    expect(DATASETS.imagenet_r.template).toBe('a photo of a {}.');
    expect(DATASETS.sun397.expected).toEqual({ classes: 397, train: 15880, val: 3970, test: 19850 });
    expect(DATASETS.imagenet_sketch.expected.test).toBe(50889);
    expect(DATASETS.caltech101.folder).toBe('caltech-101');
    expect(DATASETS.dtd.requiredFiles).toEqual(['split_zhou_DescribableTextures.json']);
    expect(formatPrompt('a photo of a {}, a type of pet.', 'great_pyrenees')).toBe(
      'a photo of a great pyrenees, a type of pet.',
    );
  });

  it('rejects an unknown dataset name, listing the known ones', () => {
    expect(() => datasetInfo('cifar10')).toThrow(/unknown dataset "cifar10"; known: imagenet, caltech101/);
  });
});

describe('split_zhou readers', () => {
  const jsonSets = DATASET_NAMES.filter((n) => DATASETS[n].layout === 'split-json');
  it.each(jsonSets)(
    '%s: reads triples in order, joins paths to its image dir, names classes from train',
    async (name) => {
      const dir = await freshRoot(name);
      await writeSplitJson(name, dir, SIMPLE);
      const ds = await loadDataset(name, dir);
      const info = DATASETS[name];
      expect(ds.classnames).toEqual(['Forest', 'Annual Crop Land']);
      expect(ds.template).toBe(info.template);
      expect(ds.train.map((i) => i.label)).toEqual([1, 0, 0]);
      expect(ds.train[0]?.impath).toBe(path.join(dir, info.folder, info.imageDir, 'b/1.jpg'));
      expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([3, 1, 2]);
    },
  );

  it('StanfordCars paths are relative to the dataset folder itself', async () => {
    const dir = await freshRoot('cars');
    await writeSplitJson('stanford_cars', dir, SIMPLE);
    const ds = await loadDataset('stanford_cars', dir);
    expect(ds.test[0]?.impath).toBe(path.join(dir, 'stanford_cars', 'b/2.jpg'));
  });

  it('a missing split file is a DatasetError naming the file', async () => {
    const dir = await freshRoot('nosplit');
    const err = await loadDataset('oxford_pets', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('missing-file');
    expect((err as Error).message).toContain(path.join(dir, 'oxford_pets', 'split_zhou_OxfordPets.json'));
  });

  it('missing images fail the load with the count and examples, unless the check is off', async () => {
    const dir = await freshRoot('noimg');
    await writeSplitJson('dtd', dir, SIMPLE, false);
    await touch(path.join(dir, 'dtd', 'images', 'a/1.jpg'));
    await expect(loadDataset('dtd', dir)).rejects.toThrow(/dtd: 5 image file\(s\) listed by the split are missing/);
    await expect(loadDataset('dtd', dir, { verifyImages: false })).resolves.toBeDefined();
  });

  it('labels outside the class list, gaps and conflicting names are errors', async () => {
    const bad = async (split: typeof SIMPLE) => {
      const dir = await freshRoot('badlabel');
      await writeSplitJson('eurosat', dir, split, false);
      return readDataset('eurosat', dir);
    };
    await expect(bad({ ...SIMPLE, test: [['c/1.jpg', 2, 'River']] })).rejects.toThrow(
      /test label 2 .* outside the class list \(0\.\.1\)/,
    );
    await expect(
      bad({
        ...SIMPLE,
        train: [
          ['c/1.jpg', 2, 'River'],
          ['a/1.jpg', 0, 'Forest'],
        ],
      }),
    ).rejects.toThrow(/label 1 has no train item/);
    await expect(bad({ ...SIMPLE, val: [['a/9.jpg', 0, 'Woods']] })).rejects.toThrow(
      /names label 0 "Woods", train says "Forest"/,
    );
    await expect(
      bad({
        ...SIMPLE,
        train: [
          ['a/1.jpg', 0, 'Forest'],
          ['a/2.jpg', 0, 'Woods'],
        ],
      }),
    ).rejects.toThrow(/named both/);
  });

  it('a malformed split file is a bad-format error', async () => {
    const dir = await freshRoot('malformed');
    await touch(
      path.join(dir, 'eurosat', 'split_zhou_EuroSAT.json'),
      '{"train": [["a.jpg", "zero", "x"]], "val": [], "test": []}',
    );
    await expect(readDataset('eurosat', dir)).rejects.toThrow(/not a split_zhou file/);
    await touch(path.join(dir, 'eurosat', 'split_zhou_EuroSAT.json'), '{not json');
    await expect(readDataset('eurosat', dir)).rejects.toThrow(/not valid JSON/);
  });
});

describe('FGVCAircraft text files', () => {
  it('labels by variants.txt line, multi-word variants, <id>.jpg under images/', async () => {
    const dir = await freshRoot('fgvc');
    const d = path.join(dir, 'fgvc_aircraft');
    await touch(path.join(d, 'variants.txt'), '707-320\nBoeing 717\nA300B4\n');
    await touch(path.join(d, 'images_variant_train.txt'), '1025794 707-320\n1340192 Boeing 717\n0056978 A300B4\n');
    await touch(path.join(d, 'images_variant_val.txt'), '2000001 Boeing 717\n\n');
    await touch(path.join(d, 'images_variant_test.txt'), '3000001 A300B4\r\n');
    for (const id of ['1025794', '1340192', '0056978', '2000001', '3000001'])
      await touch(path.join(d, 'images', `${id}.jpg`));
    const ds = await loadDataset('fgvc_aircraft', dir);
    expect(ds.classnames).toEqual(['707-320', 'Boeing 717', 'A300B4']);
    expect(ds.train.map((i) => [path.basename(i.impath), i.label])).toEqual([
      ['1025794.jpg', 0],
      ['1340192.jpg', 1],
      ['0056978.jpg', 2],
    ]);
    expect(ds.val).toHaveLength(1);
    expect(ds.test[0]?.classname).toBe('A300B4');
  });

  it('an unknown variant names the file and line', async () => {
    const dir = await freshRoot('fgvcbad');
    const d = path.join(dir, 'fgvc_aircraft');
    await touch(path.join(d, 'variants.txt'), '707-320\n');
    await touch(path.join(d, 'images_variant_train.txt'), '1 707-320\n2 Cessna 172\n');
    await touch(path.join(d, 'images_variant_val.txt'), '');
    await touch(path.join(d, 'images_variant_test.txt'), '');
    await expect(readDataset('fgvc_aircraft', dir)).rejects.toThrow(
      /images_variant_train\.txt:2: variant "Cessna 172" is not in variants\.txt/,
    );
  });
});

describe('ImageNet and its domain-shift sets', () => {
  const classnamesTxt = 'n002 goldfish\nn001 tench fish\nn003 great white shark\n';

  it('ImageNet: labels by sorted train folder, names from classnames.txt, val folder is the test set', async () => {
    const dir = await freshRoot('inet');
    const d = path.join(dir, 'imagenet');
    await touch(path.join(d, 'classnames.txt'), classnamesTxt);
    for (const split of ['train', 'val']) {
      for (const wnid of ['n001', 'n002', 'n003']) {
        for (const f of ['b.JPEG', 'a.JPEG', '.hidden']) await touch(path.join(d, 'images', split, wnid, f));
      }
    }
    await touch(path.join(d, 'images', 'train', 'stray.txt'));
    const ds = await loadDataset('imagenet', dir);
    expect(ds.classnames).toEqual(['tench fish', 'goldfish', 'great white shark']);
    expect(ds.train.map((i) => path.relative(d, i.impath))).toEqual([
      'images/train/n001/a.JPEG',
      'images/train/n001/b.JPEG',
      'images/train/n002/a.JPEG',
      'images/train/n002/b.JPEG',
      'images/train/n003/a.JPEG',
      'images/train/n003/b.JPEG',
    ]);
    expect(ds.val).toEqual([]);
    expect(ds.test.map((i) => i.label)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('ImageNet: a class folder absent from classnames.txt is named in the error', async () => {
    const dir = await freshRoot('inetbad');
    const d = path.join(dir, 'imagenet');
    await touch(path.join(d, 'classnames.txt'), 'n001 tench\n');
    for (const split of ['train', 'val']) await touch(path.join(d, 'images', split, 'n999', 'a.JPEG'));
    await touch(path.join(d, 'images', 'train', 'n001', 'a.JPEG'));
    await touch(path.join(d, 'images', 'val', 'n001', 'a.JPEG'));
    await expect(readDataset('imagenet', dir)).rejects.toThrow(/class folder "n999" has no line in .*classnames\.txt/);
  });

  it('ImageNetV2: folder <label> per classnames.txt line, in file order', async () => {
    const dir = await freshRoot('v2');
    const d = path.join(dir, 'imagenetv2');
    await touch(path.join(d, 'classnames.txt'), classnamesTxt);
    for (const label of ['0', '1', '2'])
      await touch(path.join(d, 'imagenetv2-matched-frequency-format-val', label, 'x.jpeg'));
    const ds = await loadDataset('imagenet_v2', dir);
    expect(ds.classnames).toEqual(['goldfish', 'tench fish', 'great white shark']);
    expect(ds.train).toEqual([]);
    expect(ds.test.map((i) => [path.basename(path.dirname(i.impath)), i.label])).toEqual([
      ['0', 0],
      ['1', 1],
      ['2', 2],
    ]);
    await rm(path.join(d, 'imagenetv2-matched-frequency-format-val', '2'), { recursive: true });
    await expect(readDataset('imagenet_v2', dir)).rejects.toThrow(/missing folder: .*format-val\/2/);
  });

  it('ImageNet-A/R: sorted present folders (a subset), README.txt skipped; Sketch keeps all folders', async () => {
    const dir = await freshRoot('ar');
    for (const [folder, imageDir] of [
      ['imagenet-adversarial', 'imagenet-a'],
      ['imagenet-rendition', 'imagenet-r'],
    ] as const) {
      const d = path.join(dir, folder);
      await touch(path.join(d, 'classnames.txt'), classnamesTxt);
      await touch(path.join(d, imageDir, 'README.txt'), 'readme');
      await touch(path.join(d, imageDir, 'n003', 'x.jpg'));
      await touch(path.join(d, imageDir, 'n001', 'y.jpg'));
    }
    for (const name of ['imagenet_a', 'imagenet_r'] as const) {
      const ds = await loadDataset(name, dir);
      expect(ds.classnames).toEqual(['tench fish', 'great white shark']);
      expect(ds.test.map((i) => i.label)).toEqual([0, 1]);
    }
    const s = path.join(dir, 'imagenet-sketch');
    await touch(path.join(s, 'classnames.txt'), classnamesTxt);
    for (const wnid of ['n003', 'n002', 'n001']) await touch(path.join(s, 'images', wnid, 'sketch.JPEG'));
    const sketch = await loadDataset('imagenet_sketch', dir);
    expect(sketch.classnames).toEqual(['tench fish', 'goldfish', 'great white shark']);
    await touch(path.join(s, 'images', 'README.txt'));
    await expect(readDataset('imagenet_sketch', dir)).rejects.toThrow(/class folder "README.txt" has no line/);
  });
});
