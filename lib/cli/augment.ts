// `unet augment <image.png> [<label.png>] --seed S --out DIR`: one augmented sample written as
// PNGs, with a preview that shows the deformation as a warped grid beside the original.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { applyField, augmentBatch, type AugmentBatchOptions, saveField } from '../augment';
import { tensor as makeTensor } from '../creation';
import { imagePicture, labelPicture, panel, type Picture } from '../io/picture';
import { readImagePng, readLabelPng, writeColourPng, writeGrayPng, writeLabelPng, writePicturePng } from '../io/png';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { weightMap } from '../weightmap/weight-map';
import { choiceOption, integerOption, numberOption, pairOption } from './args';
import { applyCommonFlags } from './common-flags';
import { COMMON_FLAGS, defineCommand, type FlagValues, type Flags } from './command';

const GRID_STEP = 24;

function gridLines(height: number, width: number): Tensor {
  const lines = new Float32Array(height * width);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) if (y % GRID_STEP === 0 || x % GRID_STEP === 0) lines[y * width + x] = 1;
  return makeTensor(lines).reshape([1, 1, height, width]);
}

// The image with grid lines (1, 1, H, W) painted over it in yellow.
function gridPicture(image: Tensor, lines: Tensor): Picture {
  const picture = imagePicture(image);
  const strength = lines.to('float32').toTypedArray() as Float32Array;
  strength.forEach((s, k) => {
    const a = Math.min(1, Math.max(0, s));
    picture.rgb[3 * k] = Math.round(picture.rgb[3 * k]! * (1 - a) + 255 * a);
    picture.rgb[3 * k + 1] = Math.round(picture.rgb[3 * k + 1]! * (1 - a) + 200 * a);
    picture.rgb[3 * k + 2] = Math.round(picture.rgb[3 * k + 2]! * (1 - a));
  });
  return picture;
}

const AUGMENT_FLAGS = {
  out: { type: 'string', placeholder: 'DIR', help: 'where the PNGs go' },
  seed: { type: 'string', placeholder: 'N', help: "the sample's seed (default 0): the same seed gives the same result" },
  grid: { type: 'string', placeholder: 'N[,M]', help: 'elastic control points per side (default 3)' },
  sigma: { type: 'string', placeholder: 'N', help: 'elastic displacement σ in pixels (default 10; 0 turns it off)' },
  rotation: { type: 'string', placeholder: 'DEG', help: 'rotate by up to ±DEG degrees (default 0)' },
  flip: { type: 'boolean', help: 'flip each axis with probability 1/2' },
  shift: { type: 'string', placeholder: 'N', help: 'shift by up to ±N pixels (default 0)' },
  scale: { type: 'string', placeholder: 'MIN,MAX', help: 'zoom by a factor in [MIN, MAX] (default 1)' },
  brightness: { type: 'string', placeholder: 'N', help: 'brightness offset up to ±N (default 0)' },
  contrast: { type: 'string', placeholder: 'N', help: 'contrast factor within 1 ± N (default 0)' },
  gamma: { type: 'string', placeholder: 'N', help: 'gamma within e^±N (default 0)' },
  noise: { type: 'string', placeholder: 'N', help: 'Gaussian noise of up to N (default 0)' },
  interpolation: {
    type: 'string',
    placeholder: 'KIND',
    help: 'bicubic | bilinear, for the image (default bicubic; labels nearest, weights bilinear)',
  },
  field: { type: 'boolean', help: 'also write the displacement field as field.npy (H × W × 2, (dy, dx))' },
  'max-pixels': COMMON_FLAGS['max-pixels'],
} as const satisfies Flags;

/** `unet augment` */
export const augmentCommand = defineCommand({
  name: 'augment',
  synopsis: '<image.png> [<label.png>] --out DIR [options]',
  positionals: [1, 2],
  flags: AUGMENT_FLAGS,
  required: ['out'],
  epilogue: 'Writes image.png, label.png and weights.png (with a label) and preview.png into DIR.',
  run(values, positionals) {
    applyCommonFlags(values);
    return augmentOne(values, positionals);
  },
});

function augmentOne(values: FlagValues<typeof AUGMENT_FLAGS>, positionals: string[]): number {
  const sigma = numberOption('sigma', values.sigma) ?? 10;
  const options: AugmentBatchOptions = {
    elastic: sigma === 0 ? false : { grid: pairOption('grid', values.grid) ?? [3, 3], sigma },
    rotation: numberOption('rotation', values.rotation),
    flip: values.flip,
    shift: numberOption('shift', values.shift),
    scale: pairOption('scale', values.scale),
    brightness: numberOption('brightness', values.brightness),
    contrast: numberOption('contrast', values.contrast),
    gamma: numberOption('gamma', values.gamma),
    noise: numberOption('noise', values.noise),
    interpolation: choiceOption('interpolation', values.interpolation, ['bicubic', 'bilinear'] as const),
  };
  const seed = integerOption('seed', values.seed) ?? 0;
  const [imageFile, labelFile] = positionals as [string, string | undefined];
  const out = values.out!;
  fs.mkdirSync(out, { recursive: true });
  tidy(() => {
    const image = readImagePng(imageFile);
    const [channels, height, width] = image.shape as [number, number, number];
    const label = labelFile === undefined ? undefined : readLabelPng(labelFile);
    if (label && (label.shape[0] !== height || label.shape[1] !== width)) {
      throw new Error(
        `${labelFile} is ${label.shape[1]}×${label.shape[0]} but ${imageFile} is ${width}×${height}: the label must match the image`,
      );
    }
    const weights = label ? weightMap(label) : undefined;
    const result = augmentBatch({ image: image.unsqueeze(0), label: label?.unsqueeze(0), weights: weights?.unsqueeze(0) }, [seed], options);
    const deformed = result.image.squeeze(0);
    // The grid, deformed through the returned field, shows where every part of the image went.
    const lines = gridLines(height, width);
    const rows: Picture[][] = [[gridPicture(image, lines), gridPicture(deformed, applyField(lines, result.field, 'bilinear'))]];
    if (channels === 1) writeGrayPng(path.join(out, 'image.png'), deformed.select(0, 0));
    else writePicturePng(path.join(out, 'image.png'), imagePicture(deformed));
    if (label && result.label && result.weights) {
      writeLabelPng(path.join(out, 'label.png'), result.label.squeeze(0));
      writeColourPng(path.join(out, 'weights.png'), result.weights.squeeze(0));
      rows.push([labelPicture(label, image), labelPicture(result.label.squeeze(0), deformed)]);
    }
    writePicturePng(path.join(out, 'preview.png'), panel(rows));
    if (values.field) saveField(path.join(out, 'field.npy'), result.field.squeeze(0));
    const t = result.transforms[0]!;
    const parts = [
      options.elastic ? `elastic σ ${sigma}` : null,
      t.angle !== 0 ? `rotation ${((t.angle * 180) / Math.PI).toFixed(1)}°` : null,
      t.flipY || t.flipX ? `flip ${[t.flipY ? 'y' : '', t.flipX ? 'x' : ''].join('')}` : null,
      t.scale !== 1 ? `scale ${t.scale.toFixed(3)}` : null,
    ].filter((part) => part !== null);
    const written = ['image.png', ...(label ? ['label.png', 'weights.png'] : []), 'preview.png', ...(values.field ? ['field.npy'] : [])];
    process.stdout.write(
      `${imageFile}: ${width}×${height}, seed ${seed}, ${parts.join(', ') || 'no geometric change'} → ${written.map((f) => path.join(out, f)).join(', ')}\n`,
    );
  });
  return 0;
}
