// PNG images in (8- and 16-bit gray or colour, scaled to [0, 1]), label images in (8- and 16-bit
// grayscale ids), and pictures out: gray images, label images, colour maps and RGB pictures.
import * as fs from 'node:fs';

import { PNG } from 'pngjs';

import { native } from '../native';
import type { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';
import { checkImageSize } from './limits';
import type { Picture } from './picture';

/** Options of the PNG readers. */
export interface ReadImageOptions {
  /** Refuse images that declare more pixels (default: `getMaxImagePixels()`, 2^28 unless set). */
  maxPixels?: number;
}

/** Thrown for a PNG that is not a label image; the message names the file and what it is. */
export class PngError extends Error {
  override name = 'PngError';
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The size in the header (IHDR, the first chunk) is checked before pngjs allocates for it.
function decode(file: string, options: ReadImageOptions): PNG & { colorType: number; depth: number } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new PngError(`${file}: cannot read (${(error as Error).message})`);
  }
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new PngError(`${file}: not a readable PNG (no PNG signature and header)`);
  }
  checkImageSize(file, bytes.readUInt32BE(16), bytes.readUInt32BE(20), options.maxPixels);
  try {
    return PNG.sync.read(bytes, { skipRescale: true }) as PNG & { colorType: number; depth: number };
  } catch (error) {
    throw new PngError(`${file}: not a readable PNG (${(error as Error).message})`);
  }
}

/**
 * A PNG image as float32 (C, H, W) in [0, 1], scaled by its bit depth: one channel for gray,
 * three for colour (palette images expanded, alpha dropped).
 */
export function readImagePng(file: string, options: ReadImageOptions = {}): Tensor {
  const png = decode(file, options);
  const { width, height } = png;
  const gray = png.colorType === 0 || png.colorType === 4;
  const channels = gray ? 1 : 3;
  const scale = png.colorType === 3 ? 255 : 2 ** png.depth - 1;
  const data = png.data as unknown as ArrayLike<number>;
  const values = new Float32Array(channels * width * height);
  const plane = width * height;
  for (let k = 0; k < plane; k += 1) for (let c = 0; c < channels; c += 1) values[c * plane + k] = data[4 * k + c]! / scale;
  return native.fromTypedArray(values, [channels, height, width]);
}

/** A grayscale PNG (8 or 16 bits) as an int32 (H, W) tensor of its values; colour images are refused. */
export function readLabelPng(file: string, options: ReadImageOptions = {}): Tensor {
  const png = decode(file, options);
  const colorType = png.colorType;
  if (colorType !== 0 && colorType !== 4) {
    const kind = colorType === 3 ? 'palette' : 'RGB';
    throw new PngError(
      `${file}: a ${kind} image is not a label image; labels are one grayscale channel (8 or 16 bits) holding 0 for background and an id per cell`,
    );
  }
  const { width, height } = png;
  const values = new Int32Array(width * height);
  const data = png.data as unknown as ArrayLike<number>;
  for (let k = 0; k < values.length; k += 1) values[k] = data[4 * k]!;
  return native.fromTypedArray(values, [height, width]);
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

/** Writes an RGB picture as a PNG, atomically. */
export function writePicturePng(file: string, { rgb, height, width }: Picture): void {
  if (rgb.length !== height * width * 3)
    throw new RangeError(`writePicturePng(): expected ${height} × ${width} × 3 bytes, got ${rgb.length}`);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** Writes a gray image (H, W), values in [0, 1] (clamped), as an 8-bit grayscale PNG, atomically. */
export function writeGrayPng(file: string, image: Tensor): void {
  if (image.ndim !== 2) throw new RangeError(`writeGrayPng(): the image must be 2-d (H, W), got shape [${image.shape}]`);
  const [height, width] = image.shape as [number, number];
  const values = image.to('float32').toTypedArray() as Float32Array;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)).buffer);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

/** Writes integer labels (H, W) as a grayscale PNG (8-bit, or 16-bit when an id exceeds 255), atomically. */
export function writeLabelPng(file: string, labels: Tensor): void {
  if (labels.ndim !== 2) throw new RangeError(`writeLabelPng(): the labels must be 2-d (H, W), got shape [${labels.shape}]`);
  const [height, width] = labels.shape as [number, number];
  const values = labels.to('int32').toTypedArray() as Int32Array;
  let max = 0;
  for (const value of values) {
    if (value < 0 || value > 65535) throw new RangeError(`writeLabelPng(): label ids must be in 0..65535, got ${value}`);
    if (value > max) max = value;
  }
  const bitDepth = max > 255 ? 16 : 8;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth });
  // pngjs takes 16-bit samples in the machine's byte order and swaps them itself.
  png.data = Buffer.from(bitDepth === 16 ? Uint16Array.from(values).buffer : Uint8Array.from(values).buffer);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth }));
}
