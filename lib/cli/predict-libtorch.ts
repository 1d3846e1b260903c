// `unet predict` on libtorch (the default engine), loaded only when it runs.
import * as fs from 'node:fs';

import '../methods';
import { normaliseImage } from '../data/normalise';
import { imageTensor } from '../io/image-tensor';
import { tidy } from '../memory';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import { PRECISIONS } from '../predict/precision';
import type { ImageRaster } from '../raster/image';
import { loadTrainedModel } from '../unet/model-files';
import { resolveModel } from '../unet/shipped-models';
import { localDevice } from '../distributed';
import { choiceOption, integerOption } from './args';
import { applyCommonFlags } from './common-flags';
import { rankShare } from './launch';
import { inputFiles, pagesFor, type PredictValues, predictPages, ttaFlag } from './predict-files';

/** `unet predict` on libtorch: the model's options, weights and description from its folder or file. */
export function predictFiles(values: PredictValues & { threads?: string; 'max-pixels'?: string }, positionals: string[]): Promise<number> {
  applyCommonFlags(values);
  const precision = choiceOption('precision', values.precision, PRECISIONS);
  const files = rankShare(inputFiles(positionals));
  const device = localDevice(values.device ?? 'cpu');
  const ttaChoice = ttaFlag(values);
  const { model, weights, description } = loadTrainedModel(resolveModel(values.model!));
  const tta = ttaChoice ?? description.tta;
  model.to(device);
  fs.mkdirSync(values.out!, { recursive: true });
  process.stderr.write(
    `model ${weights} on ${device}: ${description.normalisation} normalisation, ${JSON.stringify(description.postprocess)}${tta ? ', test-time augmentation' : ''}${precision && precision !== 'float32' ? `, ${precision}` : ''}\n`,
  );
  const tileSize = integerOption('tile', values.tile);
  const batchSize = integerOption('batch', values.batch);
  return predictPages(files, pagesFor(model.options.inChannels), (page: ImageRaster, name) =>
    tidy(() => {
      const { height, width } = page;
      const image = normaliseImage(imageTensor(page), description.normalisation);
      const probabilities = predictProbabilities(model, image, { tileSize, batchSize, tta, exact: values.exact, device, precision });
      const written = writePrediction(values.out!, name, image, probabilities, description.postprocess);
      return { written, width, height };
    }),
  );
}
