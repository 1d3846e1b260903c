// From class probabilities to a label image, for tensors: the array code of
// lib/raster/postprocess on the probabilities' values.
import { labelTensor } from '../labels';
import { tidy } from '../memory';
import { checkPostprocess, classesOf, labelValuesFromProbabilities, notMembraneValues } from '../raster/postprocess';
import type { Tensor } from '../tensor';
import { tensorArg } from '../check';
import type { OutputKind, PostprocessOptions, Watershed } from '../unet/model-files';
import { tensor } from '../creation';

export type { OutputKind, PostprocessOptions, Watershed };
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

/**
 * The ISBI 2012 map of "not membrane" (H, W) float32 from class probabilities (C, H, W): 1 − the
 * background's, and 0 on the lines of the watershed when `options` has one.
 */
export function notMembraneProbability(probabilities: Tensor, options: PostprocessOptions): Tensor {
  tensorArg('notMembraneProbability', 'probabilities', probabilities);
  if (probabilities.ndim !== 3)
    throw new RangeError(`notMembraneProbability(): 'probabilities' must be (C, H, W), got shape [${probabilities.shape}]`);
  const [classes, height, width] = probabilities.shape as [number, number, number];
  const { watershed } = checkPostprocess(options, classes);
  return tidy(() => {
    // Without a watershed, the tensor arithmetic the measures always used (the same float32 values).
    if (watershed === undefined) return probabilities.select(0, 0).neg().add(1).clamp(0, 1);
    const values = probabilities.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array;
    const labels = labelValuesFromProbabilities(values, classes, height, width, options);
    return tensor(notMembraneValues(values, labels, options)).reshape([height, width]);
  });
}
