// What a prediction leaves on disk, from plain arrays: the label image, the class probabilities
// and an overlay. `unet predict` on either engine writes through here.
import * as path from 'node:path';

import { labelPictureOf, stretchedPicture } from '../io/picture';
import type { LabelRaster } from './image';
import { saveFloat32Npy } from './npy';
import { writeLabelRasterPng, writePicturePng } from './png';
import { notMembraneValues } from './postprocess';
import type { Planes } from './tiles';
import type { PostprocessOptions } from '../unet/model-files';

/** The files written for one image. */
export interface PredictionFiles {
  /** `<name>.png`: the label image. */
  labels: string;
  /** `<name>.probabilities.npy`: float32 C × H × W. */
  probabilities: string;
  /** `<name>.overlay.png`: the labels in colour over the image. */
  overlay: string;
  /** With a watershed: the map of "not membrane" that the ISBI 2012 measures score. */
  notMembrane?: string;
}

/**
 * Writes `<name>.png` (the labels), `<name>.probabilities.npy` (float32 C × H × W) and
 * `<name>.overlay.png` (the labels in colour over the normalised image, stretched for display)
 * into `folder`, each atomically; when `postprocess` has a watershed, also
 * `<name>.not-membrane.npy` (float32 H × W: 1 − the background probability, 0 on its lines),
 * which `unet eval --protocol isbi2012` scores.
 */
export function writePredictionFiles(
  folder: string,
  name: string,
  prediction: { normalised: Planes; probabilities: Planes; labels: LabelRaster },
  postprocess: PostprocessOptions,
): PredictionFiles {
  const files: PredictionFiles = {
    labels: path.join(folder, `${name}.png`),
    probabilities: path.join(folder, `${name}.probabilities.npy`),
    overlay: path.join(folder, `${name}.overlay.png`),
  };
  const { normalised, probabilities, labels } = prediction;
  writeLabelRasterPng(files.labels, labels);
  saveFloat32Npy(files.probabilities, probabilities.data, [probabilities.channels, probabilities.height, probabilities.width]);
  if (postprocess.watershed !== undefined) {
    files.notMembrane = path.join(folder, `${name}.not-membrane.npy`);
    saveFloat32Npy(files.notMembrane, notMembraneValues(probabilities.data, labels.data, postprocess), [labels.height, labels.width]);
  }
  const shown = stretchedPicture(normalised.data, normalised.channels, normalised.height, normalised.width);
  writePicturePng(files.overlay, labelPictureOf(labels.data, labels.height, labels.width, shown));
  return files;
}
