// From class probabilities to a label image, for tensors: the array code of
// lib/raster/postprocess on the probabilities' values.
import { labelTensor } from '../labels';
import { tidy } from '../memory';
import { checkPostprocess, classesOf, labelValuesFromProbabilities } from '../raster/postprocess';
import type { Tensor } from '../tensor';
import { tensorArg } from '../check';
import type { OutputKind, PostprocessOptions } from '../unet/model-files';

export type { OutputKind, PostprocessOptions };
export { checkPostprocess, classesOf };

/**
 * Labels (H, W) int32 from class probabilities (C, H, W): cell ids 1..K for `cells` and
 * `borders`, class ids for `classes`.
 */
export function labelsFromProbabilities(probabilities: Tensor, options: PostprocessOptions): Tensor {
  tensorArg('labelsFromProbabilities', 'probabilities', probabilities);
  if (probabilities.ndim !== 3)
    throw new RangeError(`labelsFromProbabilities(): 'probabilities' must be (C, H, W), got shape [${probabilities.shape}]`);
  const [classes, height, width] = probabilities.shape as [number, number, number];
  checkPostprocess(options, classes);
  return tidy(() => {
    const values = probabilities.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array;
    return labelTensor(labelValuesFromProbabilities(values, classes, height, width, options), height, width);
  });
}
