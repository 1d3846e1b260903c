// `unet eval --pred DIR --truth DIR`: scores predicted label images against true ones.
import { parseArgs } from 'node:util';

import { listImages, readLabels, stemOf } from '../data/folder';
import { writeFileAtomic } from '../io/atomic';
import { dispose } from '../memory';
import { type ImageScores, meanScores, scoreImage } from '../metrics/evaluate';
import { integerOption } from './args';

const USAGE = `usage: unet eval --pred DIR --truth DIR [--classes N] [--json FILE]
  --pred DIR      predicted label images (unet predict's NAME.png; overlays and .npy files are skipped)
  --truth DIR     true label images with the same names (PNG or TIFF; masks are split into cells)
  --classes N     2 (default: cells, scored as foreground and as instances) or the class count
  --json FILE     also write the scores as JSON
Prints, per image and on average: IoU and Dice of each class, pixel error, and for cells the
adapted Rand error, the warping error and the cell tracking challenge's SEG.
`;

function row(scores: Omit<ImageScores, 'name'>, name: string): string {
  const cells = scores.randError === undefined ? [] : [scores.randError, scores.warpingError!, scores.seg!].map((v) => v.toFixed(4));
  return `| ${[name, ...scores.iou.map((v) => v.toFixed(4)), ...scores.dice.map((v) => v.toFixed(4)), scores.pixelError.toFixed(4), ...cells].join(' | ')} |`;
}

/** `unet eval` */
export function runEval(args: string[]): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      pred: { type: 'string' },
      truth: { type: 'string' },
      classes: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.pred === undefined || values.truth === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const classes = integerOption('classes', values.classes) ?? 2;
  const truths = new Map(listImages(values.truth).map((file) => [stemOf(file), file]));
  const predictions = listImages(values.pred).filter((file) => !file.endsWith('.overlay.png'));
  if (predictions.length === 0) throw new Error(`${values.pred}: no predicted label images`);
  const missing = predictions.filter((file) => !truths.has(stemOf(file)));
  if (missing.length > 0) throw new Error(`${values.truth}: no true labels for ${missing.map(stemOf).slice(0, 5).join(', ')} (names must match)`);
  const scores = predictions.flatMap((file) => {
    const predicted = readLabels(file);
    const truth = readLabels(truths.get(stemOf(file))!);
    if (predicted.length !== truth.length) throw new Error(`${file} has ${predicted.length} page(s), its truth ${truth.length}`);
    const pages = predicted.map((page, k) => scoreImage(predicted.length > 1 ? `${stemOf(file)}#${k}` : stemOf(file), page, truth[k]!, classes));
    dispose([...predicted, ...truth]);
    return pages;
  });
  const mean = meanScores(scores);
  const classNames = Array.from({ length: classes }, (_, c) => (classes === 2 ? ['background', 'cell'][c]! : `class ${c}`));
  const header = ['image', ...classNames.map((c) => `IoU ${c}`), ...classNames.map((c) => `Dice ${c}`), 'pixel error', ...(mean.randError === undefined ? [] : ['Rand error', 'warping error', 'SEG'])];
  process.stdout.write(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
  for (const image of scores) process.stdout.write(`${row(image, image.name)}\n`);
  process.stdout.write(`${row(mean, `mean of ${scores.length}`)}\n`);
  if (values.json) writeFileAtomic(values.json, `${JSON.stringify({ mean, images: scores }, null, 2)}\n`);
  return 0;
}
