// `unet predict` on libtorch (the default engine), loaded only when it runs.
import * as fs from 'node:fs';
import * as path from 'node:path';

import '../methods';
import { readImages, stemOf } from '../data/folder';
import { normaliseImage } from '../data/normalise';
import { tidy } from '../memory';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import type { Tensor } from '../tensor';
import { loadTrainedModel } from '../unet/model-files';
import { resolveModel } from '../unet/shipped-models';
import { integerOption, withFlags } from './args';
import { applyCommonFlags } from './common-flags';
import { inputFiles, type PredictValues, ttaFlag, unreadable } from './predict-files';

/** `unet predict` on libtorch: the model's options, weights and description from its folder or file. */
export function predictFiles(values: PredictValues & { threads?: string; 'max-pixels'?: string }, positionals: string[]): number {
  applyCommonFlags(values);
  const files = inputFiles(positionals);
  const device = values.device ?? 'cpu';
  const ttaChoice = ttaFlag(values);
  const { model, weights, description } = loadTrainedModel(resolveModel(values.model!));
  const tta = ttaChoice ?? description.tta;
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
      if (!unreadable(error)) throw error;
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
