// PNG images in (8- and 16-bit gray or colour, scaled to [0, 1]), label images in (8- and 16-bit
// grayscale ids), and pictures out: gray images, label images, colour maps and RGB pictures.
import { PNG } from 'pngjs';

import { pathArg } from '../arguments';
import { tensorArg } from '../check';
import { native } from '../native';
import { decodeImagePng, decodeLabelPng, type ReadImageOptions, writeLabelRasterPng, writePicturePng } from '../raster/png';
import type { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';
import { imageTensor } from './image-tensor';

export { decodeImagePng, decodeLabelPng, PngError, type ReadImageOptions, writePicturePng } from '../raster/png';

/**
 * A PNG image as float32 (C, H, W) in [0, 1], scaled by its bit depth: one channel for gray,
 * three for colour (palette images expanded, alpha dropped).
 */
export function readImagePng(file: string, options: ReadImageOptions = {}): Tensor {
  return imageTensor(decodeImagePng(file, options));
}

/** A grayscale PNG (8 or 16 bits) as an int32 (H, W) tensor of its values; colour images are refused. */
export function readLabelPng(file: string, options: ReadImageOptions = {}): Tensor {
  const { height, width, data } = decodeLabelPng(file, options);
  return native.fromTypedArray(data, [height, width]);
}

// A perceptual dark-to-bright ramp (purple → orange → yellow), 9 stops, interpolated.
const RAMP: [number, number, number][] = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
  [255, 255, 255],
];

/** Writes a float (H, W) map as a colour PNG, 0 black to the map's maximum white-yellow, atomically. */
export function writeColourPng(file: string, map: Tensor): void {
  pathArg('writeColourPng', 'file', file);
  tensorArg('writeColourPng', 'map', map);
  if (map.ndim !== 2) throw new RangeError(`writeColourPng(): the map must be 2-d (H, W), got shape [${map.shape}]`);
  const [height, width] = map.shape as [number, number];
  const values = map.to('float32').toTypedArray() as Float32Array;
  let max = 0;
  for (const value of values) if (value > max) max = value;
  const rgb = new Uint8Array(3 * values.length);
  for (let k = 0; k < values.length; k += 1) {
    const t = max > 0 ? Math.max(0, values[k]!) / max : 0;
    const position = t * (RAMP.length - 1);
    const low = Math.min(Math.floor(position), RAMP.length - 2);
    const f = position - low;
    for (let c = 0; c < 3; c += 1) rgb[3 * k + c] = Math.round(RAMP[low]![c]! * (1 - f) + RAMP[low + 1]![c]! * f);
  }
  writePicturePng(file, { height, width, rgb });
}

/** Writes a gray image (H, W), values in [0, 1] (clamped), as an 8-bit grayscale PNG, atomically. */
export function writeGrayPng(file: string, image: Tensor): void {
  pathArg('writeGrayPng', 'file', file);
  tensorArg('writeGrayPng', 'image', image);
  if (image.ndim !== 2) throw new RangeError(`writeGrayPng(): the image must be 2-d (H, W), got shape [${image.shape}]`);
  const [height, width] = image.shape as [number, number];
  const values = image.to('float32').toTypedArray() as Float32Array;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)).buffer);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** Writes integer labels (H, W) as a grayscale PNG (8-bit, or 16-bit when an id exceeds 255), atomically. */
export function writeLabelPng(file: string, labels: Tensor): void {
  pathArg('writeLabelPng', 'file', file);
  tensorArg('writeLabelPng', 'labels', labels);
  if (labels.ndim !== 2) throw new RangeError(`writeLabelPng(): the labels must be 2-d (H, W), got shape [${labels.shape}]`);
  const [height, width] = labels.shape as [number, number];
  writeLabelRasterPng(file, { height, width, data: labels.to('int32').toTypedArray() as Int32Array });
}
