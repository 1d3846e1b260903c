// What a prediction leaves on disk, for tensors: the labels that the post-processing makes of the
// probabilities, written by lib/raster/outputs.
import { labelValues } from '../labels';
import { type PredictionFiles, writePredictionFiles } from '../raster/outputs';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { labelsFromProbabilities, type PostprocessOptions } from './instances';

export type { PredictionFiles };

function planes(tensor: Tensor): { channels: number; height: number; width: number; data: Float32Array } {
  const [channels, height, width] = tensor.shape as [number, number, number];
  return { channels, height, width, data: tensor.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array };
}

/**
 * Writes `<name>.png` (the labels `postprocess` makes of the probabilities: cell ids, or class
 * ids), `<name>.probabilities.npy` (float32 C × H × W) and `<name>.overlay.png` (the labels in
 * colour over the image) into `folder`; with a watershed, `<name>.not-membrane.npy` too.
 */
export function writePrediction(
  folder: string,
  name: string,
  image: Tensor,
  probabilities: Tensor,
  postprocess: PostprocessOptions,
): PredictionFiles {
  return tidy(() => {
    const labels = labelsFromProbabilities(probabilities, postprocess);
    const [height, width] = labels.shape as [number, number];
    return writePredictionFiles(
      folder,
      name,
      {
        normalised: planes(image),
        probabilities: planes(probabilities),
        labels: { height, width, data: labelValues(labels) },
      },
      postprocess,
    );
  });
}
