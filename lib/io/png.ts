// PNG label images in (8- and 16-bit grayscale), and pictures out (a colour map of a float map).
import * as fs from 'node:fs';

import { PNG } from 'pngjs';

import { native } from '../native';
import type { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';

/** Thrown for a PNG that is not a label image; the message names the file and what it is. */
export class PngError extends Error {
  override name = 'PngError';
}

/** A grayscale PNG (8 or 16 bits) as an int32 (H, W) tensor of its values; colour images are refused. */
export function readLabelPng(file: string): Tensor {
  let png: PNG;
  try {
    png = PNG.sync.read(fs.readFileSync(file), { skipRescale: true });
  } catch (error) {
    throw new PngError(`${file}: not a readable PNG (${(error as Error).message})`);
  }
  const colorType = (png as unknown as { colorType: number }).colorType;
  if (colorType !== 0 && colorType !== 4) {
    const kind = colorType === 3 ? 'palette' : 'RGB';
    throw new PngError(`${file}: a ${kind} image is not a label image; labels are one grayscale channel (8 or 16 bits) holding 0 for background and an id per cell`);
  }
  const { width, height } = png;
  const values = new Int32Array(width * height);
  const data = png.data as unknown as ArrayLike<number>;
  for (let k = 0; k < values.length; k += 1) values[k] = data[4 * k]!;
  return native.fromTypedArray(values, [height, width]);
}

// A perceptual dark-to-bright ramp (purple → orange → yellow), 9 stops, interpolated.
const RAMP: [number, number, number][] = [
  [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164], [255, 255, 255],
];

/** Writes a float (H, W) map as a colour PNG, 0 black to the map's maximum white-yellow, atomically. */
export function writeColourPng(file: string, map: Tensor): void {
  if (map.ndim !== 2) throw new RangeError(`writeColourPng(): the map must be 2-d (H, W), got shape [${map.shape}]`);
  const [height, width] = map.shape as [number, number];
  const values = map.to('float32').toTypedArray() as Float32Array;
  let max = 0;
  for (const value of values) if (value > max) max = value;
  const png = new PNG({ width, height });
  for (let k = 0; k < values.length; k += 1) {
    const t = max > 0 ? Math.max(0, values[k]!) / max : 0;
    const position = t * (RAMP.length - 1);
    const low = Math.min(Math.floor(position), RAMP.length - 2);
    const f = position - low;
    for (let c = 0; c < 3; c += 1) png.data[4 * k + c] = Math.round(RAMP[low]![c]! * (1 - f) + RAMP[low + 1]![c]! * f);
    png.data[4 * k + 3] = 255;
  }
  writeFileAtomic(file, PNG.sync.write(png));
}
