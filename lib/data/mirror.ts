// Regions of an image read with mirroring where they leave it: the overlap-tile strategy's
// padding, shared by training tiles and prediction tiles.
import { tensor as makeTensor } from '../creation';
import { describe } from '../arguments';
import { tensorArg } from '../check';
import { tidy } from '../memory';
import { mirrorIndex } from '../raster/tiles';
import type { Tensor } from '../tensor';
import { upload } from '../upload';

export { mirrorIndex };

/** The region [top, top + height) × [left, left + width) of `x` (…, H, W), mirrored outside the image. */
export function cropMirrored(x: Tensor, top: number, left: number, height: number, width: number): Tensor {
  tensorArg('cropMirrored', 'x', x);
  if (x.ndim < 2) throw new RangeError(`cropMirrored(): argument 'x' must be (…, H, W), got shape [${x.shape}]`);
  for (const [name, value, least] of [
    ['top', top, -Infinity],
    ['left', left, -Infinity],
    ['height', height, 0],
    ['width', width, 0],
  ] as const)
    if (!Number.isSafeInteger(value) || value < least)
      throw new RangeError(`cropMirrored(): argument '${name}' must be an integer${least === 0 ? ' >= 0' : ''}, got ${describe(value)}`);
  const [h, w] = x.shape.slice(-2) as [number, number];
  return tidy(() => {
    const axis = (start: number, length: number, extent: number, dim: number, input: Tensor): Tensor => {
      if (start >= 0 && start + length <= extent) return input.narrow(dim, start, length);
      const indices = BigInt64Array.from({ length }, (_, k) => BigInt(mirrorIndex(start + k, extent)));
      return input.indexSelect(dim, upload(makeTensor(indices), x.device));
    };
    return axis(left, width, w, x.ndim - 1, axis(top, height, h, x.ndim - 2, x));
  });
}
