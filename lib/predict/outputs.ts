// What a prediction leaves on disk: the label image, the class probabilities and an overlay.
import * as path from 'node:path';

import { saveNpy } from '../io/npy';
import { labelPicture } from '../io/picture';
import { writeLabelPng, writePicturePng } from '../io/png';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { labelsFromProbabilities, type PostprocessOptions } from './instances';

/** The files written for one image. */
export interface PredictionFiles {
  labels: string;
  probabilities: string;
  overlay: string;
}

/**
 * Writes `<name>.png` (the labels `postprocess` makes of the probabilities: cell ids, or class
 * ids), `<name>.probabilities.npy` (float32 C × H × W) and `<name>.overlay.png` (the labels in
 * colour over the image) into `folder`.
 */
export function writePrediction(
  folder: string,
  name: string,
  image: Tensor,
  probabilities: Tensor,
  postprocess: PostprocessOptions,
): PredictionFiles {
  const files = {
    labels: path.join(folder, `${name}.png`),
    probabilities: path.join(folder, `${name}.probabilities.npy`),
    overlay: path.join(folder, `${name}.overlay.png`),
  };
  tidy(() => {
    const labels = labelsFromProbabilities(probabilities, postprocess);
    writeLabelPng(files.labels, labels);
    saveNpy(files.probabilities, probabilities.to('float32').contiguous());
    // The image as normalised for the network, mapped back to [0, 1] for display.
    const shown = image.mean(0);
    const low = shown.min().item() as number;
    const high = shown.max().item() as number;
    writePicturePng(files.overlay, labelPicture(labels, shown.sub(low).div(Math.max(high - low, 1e-6))));
  });
  return files;
}
