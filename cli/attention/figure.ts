import sharp, { type OverlayOptions } from 'sharp';
import type { AttentionMaps } from '../../db/attention.ts';

/** One column of the figure: a trial's maps and which of its rows to draw. */
export interface FigureColumn {
  title: string;
  maps: AttentionMaps;
  map: 'classToken' | 'classAwarePrompts';
}

type Rgb = [number, number, number];

const CELL = 144;
const GAP = 6;
const HEADER = 40;
const CAPTION = 22;
const LABEL = 120;

const LOW: Rgb = [20, 20, 120];
const MID: Rgb = [220, 40, 40];
const HIGH: Rgb = [255, 235, 60];

/**
 * A sequential colour scale (dark blue → red → yellow), drawn with an opacity that grows with the share; the
 * dashboard's trial page draws the same scale (dashboards/static/app.js, heatColour).
 */
function heatColour(t: number): Rgb {
  const [from, to, u] = t <= 0.5 ? [LOW, MID, t / 0.5] : [MID, HIGH, (t - 0.5) / 0.5];
  const mix = (k: 0 | 1 | 2) => Math.round(from[k] + u * (to[k] - from[k]));
  return [mix(0), mix(1), mix(2)];
}

/** The grid × grid map as an RGBA overlay, each patch one block (the model sees nothing finer), scaled to its max. */
async function overlay(values: readonly number[], grid: number): Promise<Buffer> {
  const max = Math.max(...values, Number.MIN_VALUE);
  const rgba = Buffer.alloc(grid * grid * 4);
  values.forEach((v, i) => {
    const t = v / max;
    rgba.set([...heatColour(t), Math.round(200 * t)], i * 4);
  });
  return sharp(rgba, { raw: { width: grid, height: grid, channels: 4 } })
    .resize(CELL, CELL, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

async function scaledImage(pngBase64: string): Promise<Buffer> {
  return sharp(Buffer.from(pngBase64, 'base64')).resize(CELL, CELL, { kernel: 'nearest' }).png().toBuffer();
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function textSvg(width: number, height: number, lines: { text: string; fill?: string; bold?: boolean }[]): Buffer {
  const rows = lines
    .map(
      (line, i) =>
        `<text x="${width / 2}" y="${15 + i * 17}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="12"${line.bold ? ' font-weight="bold"' : ''} fill="${line.fill ?? '#222'}">${escapeXml(line.text)}</text>`,
    )
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rows}</svg>`);
}

/**
 * The paper's Figure 1 for a set of trials: one row per test image (the same images in every column), first the
 * image, then each column's map over it, with the prediction below (green when right). All columns must hold the
 * same images.
 */
export async function attentionFigure(columns: readonly FigureColumn[]): Promise<Buffer> {
  const first = columns[0];
  if (!first) throw new Error('attention figure: no columns');
  const images = first.maps.images;
  for (const column of columns) {
    const files = column.maps.images.map((image) => image.file).join('\n');
    if (files !== images.map((image) => image.file).join('\n')) {
      throw new Error(`attention figure: column ${column.title} shows other images`);
    }
  }
  const width = LABEL + (columns.length + 1) * (CELL + GAP);
  const rowHeight = CELL + CAPTION + GAP;
  const height = HEADER + images.length * rowHeight;
  const parts: OverlayOptions[] = [];
  const titles = ['image', ...columns.map((column) => column.title)];
  titles.forEach((title, c) => {
    const lines = title.split('\n').map((text) => ({ text, bold: true }));
    parts.push({ input: textSvg(CELL, HEADER, lines), left: LABEL + c * (CELL + GAP), top: 0 });
  });
  for (const [r, image] of images.entries()) {
    const top = HEADER + r * rowHeight;
    parts.push({
      input: textSvg(LABEL, CELL, [{ text: 'label:' }, { text: image.label, bold: true }]),
      left: 0,
      top: top + CELL / 2 - 17,
    });
    const picture = await scaledImage(image.png);
    parts.push({ input: picture, left: LABEL, top });
    for (const [c, column] of columns.entries()) {
      const shown = column.maps.images[r];
      const values = shown?.[column.map];
      const left = LABEL + (c + 1) * (CELL + GAP);
      parts.push({ input: picture, left, top });
      if (shown && values) {
        parts.push({ input: await overlay(values, column.maps.grid), left, top });
        const right = shown.predicted === shown.label;
        parts.push({
          input: textSvg(CELL, CAPTION, [{ text: `→ ${shown.predicted}`, fill: right ? '#16803c' : '#c0262d' }]),
          left,
          top: top + CELL,
        });
      }
    }
  }
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(parts)
    .png()
    .toBuffer();
}
