import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawFlip, pythonRound, randomResizedCropBox, trainTransform } from '../../../data/augment.ts';
import { decodeRgb, normalizeClip, resizeRegion } from '../../../data/image.ts';
import { PythonRandom } from '../../../data/python-random.ts';

interface Draw {
  width: number;
  height: number;
  scale?: [number, number];
  box: [number, number, number, number];
  flip: boolean | null;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/splits/crop-boxes.json', import.meta.url), 'utf8')) as {
  seeds: { seed: number; draws: Draw[]; nextRandom: number }[];
};

describe('RandomResizedCrop box algorithm against the Python reference', () => {
  for (const { seed, draws, nextRandom } of fixture.seeds) {
    it(`seed ${seed}: same boxes, flips and generator position`, () => {
      const rng = new PythonRandom(seed);
      for (const [i, d] of draws.entries()) {
        const box = randomResizedCropBox(rng, d.width, d.height, d.scale ?? [0.08, 1]);
        expect([box.left, box.top, box.width, box.height], `draw #${i} ${d.width}x${d.height}`).toEqual(d.box);
        if (d.flip !== null) expect(drawFlip(rng)).toBe(d.flip);
      }
      expect(rng.random()).toBe(nextRandom);
    });
  }

  it('reaches the centre fallback clamped to the ratio bounds', () => {
    const rng = new PythonRandom(3);
    expect(randomResizedCropBox(rng, 4000, 10, [0.9, 1])).toEqual({ left: 1993, top: 0, width: 13, height: 10 });
    expect(randomResizedCropBox(rng, 10, 4000, [0.9, 1])).toEqual({ left: 0, top: 1993, width: 10, height: 13 });
  });

  it('boxes always lie inside the image', () => {
    const rng = new PythonRandom(11);
    for (let i = 0; i < 2000; i++) {
      const w = 1 + rng.randbelow(600);
      const h = 1 + rng.randbelow(600);
      const b = randomResizedCropBox(rng, w, h);
      expect(b.width).toBeGreaterThan(0);
      expect(b.height).toBeGreaterThan(0);
      expect(b.left + b.width).toBeLessThanOrEqual(w);
      expect(b.top + b.height).toBeLessThanOrEqual(h);
    }
  });

  it("rounds like Python's round(): half to even", () => {
    expect([0.5, 1.5, 2.5, 2.4999, 2.5001, 3].map(pythonRound)).toEqual([0, 2, 2, 2, 3, 3]);
  });
});

describe('trainTransform', () => {
  let dir: string;
  let png: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dpt-augment-'));
    png = path.join(dir, 'halves.png');
    const w = 60;
    const h = 40;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [250, 10, 10] : [10, 10, 250], (y * w + x) * 3);
    }
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(png);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws the crop, then the flip, from the one generator, and returns size×size×3 CLIP-normalised floats', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const rng = new PythonRandom(seed);
      const out = await trainTransform(png, rng, 16);
      expect(out).toHaveLength(16 * 16 * 3);

      const replay = new PythonRandom(seed);
      const img = await decodeRgb(png);
      const box = randomResizedCropBox(replay, img.width, img.height);
      const flip = drawFlip(replay);
      const expected = normalizeClip(await resizeRegion(img, box, 16, 16), flip);
      expect(Array.from(out)).toEqual(Array.from(expected));
      expect(rng.getState()).toEqual(replay.getState());
    }
  });

  it('a flipped crop mirrors the unflipped one', async () => {
    // Find a seed that flips, then compare with the same crop unflipped.
    for (let seed = 1; seed < 50; seed++) {
      const probe = new PythonRandom(seed);
      const img = await decodeRgb(png);
      const box = randomResizedCropBox(probe, img.width, img.height);
      if (!drawFlip(probe)) continue;
      const out = await trainTransform(png, new PythonRandom(seed), 8);
      const plain = normalizeClip(await resizeRegion(img, box, 8, 8), false);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          for (let c = 0; c < 3; c++) expect(out[(y * 8 + x) * 3 + c]).toBe(plain[(y * 8 + (7 - x)) * 3 + c]);
        }
      }
      return;
    }
    throw new Error('no seed in 1..49 drew a flip');
  });

  it('a file that is not an image fails with its name', async () => {
    const bad = path.join(dir, 'not-an-image.png');
    await writeFile(bad, 'hello');
    await expect(trainTransform(bad, new PythonRandom(1), 8)).rejects.toThrow(/not-an-image\.png/);
  });
});
