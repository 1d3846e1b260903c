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

/** `fn`'s class probabilities (C, H, W), checked with `options` against them; their shape. */
function checkedProbabilities(fn: string, probabilities: Tensor, options: PostprocessOptions): [number, number, number] {
  tensorArg(fn, 'probabilities', probabilities);
  if (probabilities.ndim !== 3) throw new RangeError(`${fn}(): 'probabilities' must be (C, H, W), got shape [${probabilities.shape}]`);
  const shape = probabilities.shape as [number, number, number];
  checkPostprocess(options, shape[0]);
  return shape;
}

/** The probabilities' values as float32 on the CPU, planar. */
function valuesOf(probabilities: Tensor): Float32Array {
  return tidy(() => probabilities.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array);
}

/**
 * Labels (H, W) int32 from class probabilities (C, H, W): cell ids 1..K for `cells` and
 * `borders`, class ids for `classes`.
 */
export function labelsFromProbabilities(probabilities: Tensor, options: PostprocessOptions): Tensor {
  const [classes, height, width] = checkedProbabilities('labelsFromProbabilities', probabilities, options);
  return labelTensor(labelValuesFromProbabilities(valuesOf(probabilities), classes, height, width, options), height, width);
}

/**
 * The ISBI 2012 map of "not membrane" (H, W) float32 from class probabilities (C, H, W): 1 − the
 * background's, and 0 on the lines of the watershed when `options` has one.
 */
export function notMembraneProbability(probabilities: Tensor, options: PostprocessOptions): Tensor {
  const [classes, height, width] = checkedProbabilities('notMembraneProbability', probabilities, options);
  // Without a watershed, the tensor arithmetic the measures always used (the same float32 values).
  if (options.watershed === undefined) return tidy(() => probabilities.select(0, 0).neg().add(1).clamp(0, 1));
  const values = valuesOf(probabilities);
  const labels = labelValuesFromProbabilities(values, classes, height, width, options);
  return tidy(() => tensor(notMembraneValues(values, labels, options)).reshape([height, width]));
}
