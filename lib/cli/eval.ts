// `unet eval --pred DIR --truth DIR`: scores predicted label images against true ones.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { listImages, readLabels, stemOf } from '../data/folder';
import { writeFileAtomic } from '../io/atomic';
import { loadNpy } from '../io/npy';
import { dispose, tidy } from '../memory';
import { ctcScores } from '../metrics/ctc';
import { type ImageScores, meanScores, scoreImage } from '../metrics/evaluate';
import { isbiScores } from '../metrics/isbi2012';
import { choiceOption, integerOption } from './args';
import { applyCommonFlags } from './common-flags';
import { COMMON_FLAGS, defineCommand } from './command';

function pairs(predictions: string[], truths: Map<string, string>): [string, string][] {
  const missing = predictions.filter((file) => !truths.has(stemOf(file)));
  if (missing.length > 0) throw new Error(`no true labels for ${missing.map(stemOf).slice(0, 5).join(', ')} (names must match)`);
  return predictions.map((file) => [file, truths.get(stemOf(file))!]);
}

function runProtocol(protocol: string, predFolder: string, truths: Map<string, string>, json: string | undefined): number {
  if (protocol === 'ctc') {
    const files = pairs(
      listImages(predFolder).filter((file) => !file.endsWith('.overlay.png')),
      truths,
    );
    if (files.length === 0) throw new Error(`${predFolder}: no predicted label images`);
    const frames = files.map(([predicted, truth]) => {
      const [p] = readLabels(predicted);
      const [t] = readLabels(truth);
      return { name: stemOf(predicted), predicted: p!, reference: t! };
    });
    const scores = ctcScores(frames);
    dispose(frames.flatMap((f) => [f.predicted, f.reference]));
    process.stdout.write('| image | cells | SEG | missed | false | splits needed |\n| --- | --- | --- | --- | --- | --- |\n');
    for (const f of scores.frames)
      process.stdout.write(
        `| ${f.name} | ${f.objects} | ${f.seg.toFixed(4)} | ${f.falseNegatives} | ${f.falsePositives} | ${f.splits} |\n`,
      );
    process.stdout.write(
      `| all ${scores.frames.length} (pooled) | ${scores.objects} | ${scores.seg.toFixed(4)} | ${scores.falseNegatives} | ${scores.falsePositives} | ${scores.splits} |\n`,
    );
    process.stdout.write(`SEG ${scores.seg.toFixed(4)}  DET ${scores.det.toFixed(4)}\n`);
    if (json) writeFileAtomic(json, `${JSON.stringify(scores, null, 2)}\n`);
    return 0;
  }
  const maps = fs
    .readdirSync(predFolder)
    .filter((name) => name.endsWith('.probabilities.npy'))
    .sort();
  if (maps.length === 0) throw new Error(`${predFolder}: no NAME.probabilities.npy files (unet predict writes them)`);
  const files = pairs(
    maps.map((name) => path.join(predFolder, name.replace(/\.probabilities\.npy$/, '.npy'))),
    truths,
  );
  const slices = files.map(([file, truth]) => {
    const [t] = readLabels(truth);
    // A model with a watershed leaves the map it is scored by (its lines are membrane).
    const closed = file.replace(/\.npy$/, '.not-membrane.npy');
    if (fs.existsSync(closed)) {
      const probability = loadNpy(closed);
      if (probability.ndim !== 2) throw new Error(`${closed}: expected an H × W map of "not membrane", got [${probability.shape}]`);
      return { name: stemOf(file), probability, truth: t! };
    }
    const probabilities = loadNpy(file.replace(/\.npy$/, '.probabilities.npy'));
    if (probabilities.ndim !== 3 || probabilities.shape[0]! < 2)
      throw new Error(`${file}: expected C × H × W class probabilities (C >= 2), got [${probabilities.shape}]`);
    // Not membrane: every class but the background (class 0).
    const probability = tidy(() => probabilities.select(0, 0).to('float32').neg().add(1).clamp(0, 1).contiguous());
    probabilities.dispose();
    return { name: stemOf(file), probability, truth: t! };
  });
  const scores = isbiScores(slices);
  dispose(slices.flatMap((s) => [s.probability, s.truth]));
  process.stdout.write(`ISBI 2012 over ${slices.length} slice(s), best over the thresholds 0.0-0.9:\n`);
  process.stdout.write('| measure | value | threshold |\n| --- | --- | --- |\n');
  for (const key of ['pixelError', 'randError', 'warpingError', 'vRand', 'vInfo'] as const) {
    process.stdout.write(`| ${key} | ${scores[key].toFixed(6)} | ${scores.bestThreshold[key].toFixed(1)} |\n`);
  }
  // One merge of two large neurites can carry the whole error: where it comes from, slice by slice.
  const { randParts } = scores;
  process.stdout.write(
    `\nRand error by slice at its threshold ${scores.bestThreshold.randError.toFixed(1)} (split and merge scores, 1 = no split, no merge):\n`,
  );
  process.stdout.write('| slice | randError | split | merge |\n| --- | --- | --- | --- |\n');
  for (const part of [...randParts.slices, { name: 'all', randError: scores.randError, split: randParts.split, merge: randParts.merge }]) {
    process.stdout.write(`| ${part.name} | ${[part.randError, part.split, part.merge].map((v) => v.toFixed(6)).join(' | ')} |\n`);
  }
  if (json) writeFileAtomic(json, `${JSON.stringify(scores, null, 2)}\n`);
  return 0;
}

function row(scores: Omit<ImageScores, 'name'>, name: string): string {
  const cells = scores.randError === undefined ? [] : [scores.randError, scores.warpingError!, scores.seg!].map((v) => v.toFixed(4));
  return `| ${[name, ...scores.iou.map((v) => v.toFixed(4)), ...scores.dice.map((v) => v.toFixed(4)), scores.pixelError.toFixed(4), ...cells].join(' | ')} |`;
}

/** `unet eval` */
export const evalCommand = defineCommand({
  name: 'eval',
  synopsis: '--pred DIR --truth DIR [options]',
  flags: {
    pred: {
      type: 'string',
      placeholder: 'DIR',
      help: "unet predict's output: NAME.png label images (overlays are skipped), and for\nisbi2012 NAME.probabilities.npy, or NAME.not-membrane.npy where a model's watershed left it",
    },
    truth: { type: 'string', placeholder: 'DIR', help: 'true label images with the same names (PNG or TIFF; masks are split into cells)' },
    protocol: {
      type: 'string',
      placeholder: 'NAME',
      help: 'ctc: the cell tracking challenge\'s SEG (pooled over every true cell of every image)\nand DET; isbi2012: the ISBI 2012 challenge\'s pixel, Rand and warping errors and\nV_Rand / V_Info after thinning, from the probability of "not membrane"\n(1 - background), best over its thresholds 0.0-0.9',
    },
    classes: {
      type: 'string',
      placeholder: 'N',
      help: 'without --protocol: 2 (default: cells, scored as foreground and as instances) or the class count',
    },
    json: { type: 'string', placeholder: 'FILE', help: 'also write the scores as JSON' },
    'max-pixels': COMMON_FLAGS['max-pixels'],
  },
  required: ['pred', 'truth'],
  epilogue: `Without --protocol it prints, per image and on average: IoU and Dice of each class, pixel error,
and for cells the adapted Rand error, the warping error and SEG.`,
  run(values) {
    applyCommonFlags(values);
    return evaluate(values.pred!, values.truth!, values);
  },
});

function evaluate(pred: string, truth: string, values: { classes?: string; protocol?: string; json?: string }): number {
  const classes = integerOption('classes', values.classes) ?? 2;
  const protocol = choiceOption('protocol', values.protocol, ['ctc', 'isbi2012'] as const);
  const truths = new Map(listImages(truth).map((file) => [stemOf(file), file]));
  if (protocol !== undefined) return runProtocol(protocol, pred, truths, values.json);
  const predictions = listImages(pred).filter((file) => !file.endsWith('.overlay.png'));
  if (predictions.length === 0) throw new Error(`${pred}: no predicted label images`);
  const missing = predictions.filter((file) => !truths.has(stemOf(file)));
  if (missing.length > 0) throw new Error(`${truth}: no true labels for ${missing.map(stemOf).slice(0, 5).join(', ')} (names must match)`);
  const scores = predictions.flatMap((file) => {
    const predicted = readLabels(file);
    const trueLabels = readLabels(truths.get(stemOf(file))!);
    if (predicted.length !== trueLabels.length) throw new Error(`${file} has ${predicted.length} page(s), its truth ${trueLabels.length}`);
    const pages = predicted.map((page, k) =>
      scoreImage(predicted.length > 1 ? `${stemOf(file)}#${k}` : stemOf(file), page, trueLabels[k]!, classes),
    );
    dispose([...predicted, ...trueLabels]);
    return pages;
  });
  const mean = meanScores(scores);
  const classNames = Array.from({ length: classes }, (_, c) => (classes === 2 ? ['background', 'cell'][c]! : `class ${c}`));
  const header = [
    'image',
    ...classNames.map((c) => `IoU ${c}`),
    ...classNames.map((c) => `Dice ${c}`),
    'pixel error',
    ...(mean.randError === undefined ? [] : ['Rand error', 'warping error', 'SEG']),
  ];
  process.stdout.write(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
  for (const image of scores) process.stdout.write(`${row(image, image.name)}\n`);
  process.stdout.write(`${row(mean, `mean of ${scores.length}`)}\n`);
  if (values.json) writeFileAtomic(values.json, `${JSON.stringify({ mean, images: scores }, null, 2)}\n`);
  return 0;
}
