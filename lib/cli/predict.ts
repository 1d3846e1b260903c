// `unet predict --model RUN --out DIR INPUT...`: segments images of any size by overlap-tile.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { listImages, readImages, stemOf } from '../data/folder';
import { normaliseImage } from '../data/normalise';
import { tidy } from '../memory';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import { loadTrainedModel } from '../unet/model-files';
import { PRETRAINED, resolveModel } from '../unet/pretrained';
import { ImageTooLargeError } from '../io/limits';
import { PngError } from '../io/png';
import { TiffError } from '../io/tiff';
import type { Tensor } from '../tensor';
import { applyCommonFlags, integerOption, withFlags } from './args';
import { COMMON_FLAGS, defineCommand, UsageError } from './command';

/** `unet predict` */
export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'segment images of any size by overlap-tile with a trained or shipped model (labels, probabilities, overlay)',
  synopsis: '--model RUN --out DIR INPUT... [options]',
  positionals: [1, Infinity],
  flags: {
    model: {
      type: 'string',
      placeholder: 'RUN',
      help: `a training folder (model.json + best.safetensors), a weights file beside a\nmodel.json, or a model shipped in the package: ${Object.keys(PRETRAINED).join(', ')}`,
    },
    out: { type: 'string', placeholder: 'DIR', help: 'where the outputs go' },
    tile: { type: 'string', placeholder: 'S', help: "input tile extent (default: the network's default tile, 572 for the paper's depth)" },
    batch: { type: 'string', placeholder: 'B', help: 'tiles per forward pass (default 1)' },
    tta: { type: 'boolean', help: 'average the 8 flips and quarter turns (default: as model.json says)' },
    'no-tta': { type: 'boolean', help: 'do not, whatever model.json says' },
    exact: { type: 'boolean', help: 'CPU: turn oneDNN off so that tiles equal one whole-image pass bitwise (slower)' },
    device: { type: 'string', placeholder: 'D', help: 'cpu (default) | cuda | cuda:N' },
    ...COMMON_FLAGS,
  },
  required: ['model', 'out'],
  epilogue: `INPUT: image files (PNG, TIFF; a multi-page TIFF gives one result per page) or folders of them.
The model's normalisation and post-processing (threshold, minimum size, border growing) come
from its model.json. Writes NAME.png (cell ids, or class ids for a classes network),
NAME.probabilities.npy (float32 C × H × W) and NAME.overlay.png for each image. A file that
cannot be read (not an image, or over --max-pixels) is reported and skipped; the exit status is
then 1.`,
  run(values, positionals) {
    applyCommonFlags(values);
    return predictFiles(values, positionals);
  },
});

function predictFiles(
  values: {
    model?: string;
    out?: string;
    tile?: string;
    batch?: string;
    tta?: boolean;
    'no-tta'?: boolean;
    exact?: boolean;
    device?: string;
  },
  positionals: string[],
): number {
  const files = positionals.flatMap((input) => {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    return fs.statSync(input).isDirectory() ? listImages(input) : [input];
  });
  if (files.length === 0) throw new Error(`no PNG or TIFF images in ${positionals.join(', ')}`);
  const device = values.device ?? 'cpu';
  if (values.tta && values['no-tta']) throw new UsageError('--tta and --no-tta contradict each other');
  const { model, weights, description } = loadTrainedModel(resolveModel(values.model!));
  const tta = values['no-tta'] ? false : (values.tta ?? description.tta);
  model.to(device);
  fs.mkdirSync(values.out!, { recursive: true });
  process.stderr.write(
    `model ${weights} on ${device}: ${description.normalisation} normalisation, ${JSON.stringify(description.postprocess)}${tta ? ', test-time augmentation' : ''}\n`,
  );
  const tileSize = integerOption('tile', values.tile);
  const batchSize = integerOption('batch', values.batch);
  // A file that cannot be read or segmented is reported and skipped; the others are still done.
  const failed: string[] = [];
  for (const file of files) {
    let pages: Tensor[];
    try {
      pages = readImages(file);
    } catch (error) {
      if (!(error instanceof ImageTooLargeError || error instanceof PngError || error instanceof TiffError)) throw error;
      process.stderr.write(`unet: ${(withFlags(error, { maxPixels: '--max-pixels' }) as Error).message}; skipped\n`);
      failed.push(file);
      continue;
    }
    pages.forEach((page, index) => {
      const stem = stemOf(file);
      const name = pages.length > 1 ? `${stem}#${index}` : stem;
      const start = Date.now();
      tidy(() => {
        const image = normaliseImage(page, description.normalisation);
        let probabilities: Tensor;
        try {
          probabilities = predictProbabilities(model, image, { tileSize, batchSize, tta, exact: values.exact, device });
        } catch (error) {
          throw withFlags(error, { tileSize: '--tile', batchSize: '--batch' });
        }
        const written = writePrediction(values.out!, name, image, probabilities, description.postprocess);
        process.stdout.write(
          `${file}${pages.length > 1 ? ` page ${index}` : ''}: ${page.shape[2]}×${page.shape[1]} in ${((Date.now() - start) / 1000).toFixed(1)} s → ${written.labels}, ${path.basename(written.overlay)}, ${path.basename(written.probabilities)}\n`,
        );
      });
      page.dispose();
    });
  }
  if (failed.length > 0) {
    process.stderr.write(`unet: ${failed.length} of ${files.length} file(s) could not be read: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}
