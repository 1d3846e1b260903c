// A decoded image as the tensor the library works on: what every image reader returns.
import { native } from '../native';
import type { ImageRaster } from '../raster/image';
import type { Tensor } from '../tensor';

/** An image raster as a float32 (C, H, W) tensor of its samples (a copy). */
export function imageTensor({ channels, height, width, data }: ImageRaster): Tensor {
  return native.fromTypedArray(data, [channels, height, width]);
}
