// What a prediction leaves on disk, from plain arrays: the label image, the class probabilities
// and an overlay. `unet predict` on either engine writes through here.
import * as path from 'node:path';

import { labelPictureOf, stretchedPicture } from '../io/picture';
import type { LabelRaster } from './image';
import { saveFloat32Npy } from './npy';
import { writeLabelRasterPng, writePicturePng } from './png';
import type { Planes } from './tiles';

/** The files written for one image. */
export interface PredictionFiles {
  labels: string;
  probabilities: string;
  overlay: string;
}

/**
 * Writes `<name>.png` (the labels), `<name>.probabilities.npy` (float32 C × H × W) and
 * `<name>.overlay.png` (the labels in colour over the normalised image, stretched for display)
 * into `folder`, each atomically.
 */
export function writePredictionFiles(
  folder: string,
  name: string,
  prediction: { normalised: Planes; probabilities: Planes; labels: LabelRaster },
): PredictionFiles {
  const files = {
    labels: path.join(folder, `${name}.png`),
    probabilities: path.join(folder, `${name}.probabilities.npy`),
    overlay: path.join(folder, `${name}.overlay.png`),
  };
  const { normalised, probabilities, labels } = prediction;
  writeLabelRasterPng(files.labels, labels);
  saveFloat32Npy(files.probabilities, probabilities.data, [probabilities.channels, probabilities.height, probabilities.width]);
  const shown = stretchedPicture(normalised.data, normalised.channels, normalised.height, normalised.width);
  writePicturePng(files.overlay, labelPictureOf(labels.data, labels.height, labels.width, shown));
  return files;
}
