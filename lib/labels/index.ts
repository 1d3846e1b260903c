// Label images (H, W) of integer ids as tensors: connected components on the addon's kernel, and
// the array functions of lib/raster/labels. One typed home for what data, prediction and the
// metrics need, so that none of them calls the addon's kernels by hand.
import { tensorArg } from '../check';
import { tensor } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import { type Connectivity, checkPixels } from '../raster/labels';
import type { Tensor } from '../tensor';

export type { Connectivity } from '../raster/labels';
export { areas, componentValues, growSeeds, relabelSequential, removeSmallObjects, thin, touchingBorders } from '../raster/labels';
export { gaussianSmooth, seededWatershed } from '../raster/watershed';

function checkConnectivity(caller: string, connectivity: number): void {
  if (connectivity !== 4 && connectivity !== 8)
    throw new RangeError(`${caller}(): option 'connectivity' must be 4 or 8, got ${String(connectivity)}`);
}

function label2d(caller: string, name: string, labels: Tensor): [number, number] {
  tensorArg(caller, name, labels);
  if (labels.ndim !== 2) throw new RangeError(`${caller}(): argument '${name}' must be a 2-d (H, W) image, got shape [${labels.shape}]`);
  return labels.shape as [number, number];
}

/** The values of a 2-d label tensor as int32, row by row. */
export function labelValues(labels: Tensor): Int32Array {
  tensorArg('labelValues', 'labels', labels);
  return tidy(() => labels.to({ device: 'cpu', dtype: 'int32' }).contiguous().toTypedArray() as Int32Array);
}

/** An int32 (H, W) tensor from row-major ids. */
export function labelTensor(values: Int32Array, height: number, width: number): Tensor {
  checkPixels('labelTensor', 'values', values, Int32Array, height, width);
  return tidy(() => tensor(values).reshape([height, width]));
}

/**
 * The connected components of the non-zero pixels of `mask` (H, W), as int32 ids 1..K in raster
 * order of their first pixel (0 stays background).
 */
export function connectedComponents(mask: Tensor, connectivity: Connectivity = 4): Tensor {
  label2d('connectedComponents', 'mask', mask);
  checkConnectivity('connectedComponents', connectivity);
  return tidy(() => native.connectedComponents(mask.dtype === 'bool' ? mask.cpu() : mask.ne(0).cpu(), connectivity));
}
