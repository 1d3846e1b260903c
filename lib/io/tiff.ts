// TIFF images as tensors, multi-page stacks included: the decoding is lib/raster/tiff's.
import { native } from '../native';
import { decodeImageTiff, decodeLabelTiff } from '../raster/tiff';
import type { Tensor } from '../tensor';
import { imageTensor } from './image-tensor';
import type { ReadImageOptions } from './png';

export { decodeImageTiff, decodeLabelTiff, TiffError } from '../raster/tiff';

/**
 * Every page of a TIFF as float32 (C, H, W): integer samples scaled to [0, 1] by their bit depth,
 * float samples as stored; one channel for gray, three for colour (alpha dropped).
 */
export function readImageTiff(file: string, options: ReadImageOptions = {}): Tensor[] {
  return decodeImageTiff(file, options).map(imageTensor);
}

/** Every page of a single-channel integer TIFF as int32 (H, W) label ids. */
export function readLabelTiff(file: string, options: ReadImageOptions = {}): Tensor[] {
  return decodeLabelTiff(file, options).map(({ height, width, data }) => native.fromTypedArray(data, [height, width]));
}
