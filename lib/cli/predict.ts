// `unet predict --model RUN --out DIR INPUT...`: segments images of any size by overlap-tile.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { listImages, readImages, stemOf } from '../data/folder';
import { normaliseImage } from '../data/normalise';
import { tidy } from '../memory';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import { loadTrainedModel } from '../unet/model-files';
import { PRETRAINED, resolveModel } from '../unet/pretrained';
import { DEFAULT_MAX_PIXELS, ImageTooLargeError, setMaxImagePixels } from '../io/limits';
import { PngError } from '../io/png';
import { TiffError } from '../io/tiff';
import { setNumThreads } from '../runtime';
import type { Tensor } from '../tensor';
import { integerOption, withFlags } from './args';

const USAGE = `usage: unet predict --model RUN --out DIR INPUT... [options]
  --model RUN      a training folder (model.json + best.safetensors), a weights file beside a
                   model.json, or a model shipped in the package: ${Object.keys(PRETRAINED).join(', ')}
  INPUT            image files (PNG, TIFF; a multi-page TIFF gives one result per page) or folders of them
  --tile S         input tile extent (default 572 for the paper's depth)
  --batch B        tiles per forward pass (default 1)
  --tta / --no-tta average the 8 flips and quarter turns (test-time augmentation); default: as model.json says
  --exact          CPU: turn oneDNN off so that tiles equal one whole-image pass bitwise (slower)
  --device D       cpu (default) | cuda | cuda:N
  --threads N      CPU threads for libtorch
  --max-pixels N   refuse images that declare more pixels (default ${DEFAULT_MAX_PIXELS}); a file over it is
                   reported and skipped, and the exit status is 1
The model's normalisation and post-processing (threshold, minimum size, border growing) come
from its model.json. Writes NAME.png (cell ids, or class ids for a classes network),
NAME.probabilities.npy (float32 C × H × W) and NAME.overlay.png for each image.
`;

/** `unet predict` */
export function runPredict(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      tile: { type: 'string' },
      batch: { type: 'string' },
      tta: { type: 'boolean' },
      'no-tta': { type: 'boolean' },
      exact: { type: 'boolean', default: false },
      device: { type: 'string' },
      threads: { type: 'string' },
      'max-pixels': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.model === undefined || values.out === undefined || positionals.length === 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const files = positionals.flatMap((input) => {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    return fs.statSync(input).isDirectory() ? listImages(input) : [input];
  });
  if (files.length === 0) throw new Error(`no PNG or TIFF images in ${positionals.join(', ')}`);
  const threads = integerOption('threads', values.threads);
  if (threads !== undefined) setNumThreads(threads);
  const maxPixels = integerOption('max-pixels', values['max-pixels']);
  if (maxPixels !== undefined) setMaxImagePixels(maxPixels);
  const device = values.device ?? 'cpu';
  if (values.tta && values['no-tta']) throw new Error('--tta and --no-tta contradict each other');
  const { model, weights, description } = loadTrainedModel(resolveModel(values.model));
  const tta = values['no-tta'] ? false : values.tta ?? description.tta;
  model.to(device);
  fs.mkdirSync(values.out, { recursive: true });
  process.stderr.write(`model ${weights} on ${device}: ${description.normalisation} normalisation, ${JSON.stringify(description.postprocess)}${tta ? ', test-time augmentation' : ''}\n`);
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
        const probabilities = predictProbabilities(model, image, {
          tileSize,
          batchSize,
          tta,
          exact: values.exact,
          device,
        });
        const written = writePrediction(values.out!, name, image, probabilities, description.postprocess);
        process.stdout.write(`${file}${pages.length > 1 ? ` page ${index}` : ''}: ${page.shape[2]}×${page.shape[1]} in ${((Date.now() - start) / 1000).toFixed(1)} s → ${written.labels}, ${path.basename(written.overlay)}, ${path.basename(written.probabilities)}\n`);
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
