// PNG images decoded to plain arrays (8- and 16-bit gray or colour, scaled to [0, 1]; label
// images as 8- and 16-bit grayscale ids), and label images and pictures written, with no
// libtorch. lib/io/png makes tensors of them.
import * as fs from 'node:fs';

import { PNG } from 'pngjs';

import { writeFileAtomic } from '../io/atomic';
import { pathArg } from '../arguments';
import { checkImageSize } from '../io/limits';
import { checkPicture, type Picture } from '../io/picture';
import type { ImageRaster, LabelRaster } from './image';
import { checkPixels, labelPngBitDepth } from './labels';

/** Options of the PNG readers. */
export interface ReadImageOptions {
  /** Refuse images that declare more pixels (default: `getMaxImagePixels()`, 2^28 unless set). */
  maxPixels?: number;
}

/** Thrown for a PNG that is not a label image; the message names the file and what it is. */
export class PngError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'PngError';
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The size in the header (IHDR, the first chunk) is checked before pngjs allocates for it.
function decode(fn: string, file: string, options: ReadImageOptions): PNG & { colorType: number; depth: number } {
  pathArg(fn, 'file', file);
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
export function decodeImagePng(file: string, options: ReadImageOptions = {}): ImageRaster {
  const png = decode('decodeImagePng', file, options);
  const { width, height } = png;
  const gray = png.colorType === 0 || png.colorType === 4;
  const channels = gray ? 1 : 3;
  const scale = png.colorType === 3 ? 255 : 2 ** png.depth - 1;
  const data = png.data as unknown as ArrayLike<number>;
  const values = new Float32Array(channels * width * height);
  const plane = width * height;
  for (let k = 0; k < plane; k += 1) for (let c = 0; c < channels; c += 1) values[c * plane + k] = data[4 * k + c]! / scale;
  return { channels, height, width, data: values };
}

/** A grayscale PNG (8 or 16 bits) as int32 (H × W) ids; colour images are refused. */
export function decodeLabelPng(file: string, options: ReadImageOptions = {}): LabelRaster {
  const png = decode('decodeLabelPng', file, options);
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
  return { height, width, data: values };
}

/** Writes an RGB picture as a PNG, atomically. */
export function writePicturePng(file: string, picture: Picture): void {
  pathArg('writePicturePng', 'file', file);
  const { rgb, height, width } = checkPicture('writePicturePng', 'picture', picture);
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** Writes label ids as a grayscale PNG (8-bit, or 16-bit when an id exceeds 255), atomically. */
export function writeLabelRasterPng(file: string, { height, width, data: values }: LabelRaster): void {
  pathArg('writeLabelPng', 'file', file);
  checkPixels('writeLabelPng', 'labels', values, 'array-like', height, width);
  const bitDepth = labelPngBitDepth('writeLabelPng', values);
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth });
  // pngjs takes 16-bit samples in the machine's byte order and swaps them itself.
  png.data = Buffer.from(bitDepth === 16 ? Uint16Array.from(values).buffer : Uint8Array.from(values).buffer);
  writeFileAtomic(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth }));
}
