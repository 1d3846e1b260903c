// TIFF images decoded to plain arrays, multi-page stacks included (the ISBI 2012 challenge ships
// its training data as one 30-page `train-volume.tif`), by image-js's `tiff` package, with no
// libtorch. lib/io/tiff makes tensors of them.
import * as fs from 'node:fs';

import { decode, type TiffIfd } from 'tiff';

import { pathArg } from '../arguments';
import { checkImageSize, checkTotalPixels } from '../io/limits';
import type { ImageRaster, LabelRaster } from './image';
import type { ReadImageOptions } from './png';

/** Thrown for a file that is not a readable TIFF image; the message names the file and the fault. */
export class TiffError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'TiffError';
}

// The pages' sizes are read first (their directories only) and checked against the limit, all
// pages together, before any pixel data is decoded.
function pages(fn: string, file: string, options: ReadImageOptions): TiffIfd[] {
  pathArg(fn, 'file', file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new TiffError(`${file}: cannot read (${(error as Error).message})`);
  }
  let headers: TiffIfd[];
  try {
    headers = decode(bytes, { ignoreImageData: true });
  } catch (error) {
    throw new TiffError(`${file}: not a readable TIFF (${(error as Error).message})`);
  }
  for (const page of headers) checkImageSize(file, page.width, page.height, options.maxPixels);
  checkTotalPixels(
    file,
    headers.length,
    headers.reduce((sum, page) => sum + page.width * page.height, 0),
    options.maxPixels,
  );
  try {
    return decode(bytes);
  } catch (error) {
    throw new TiffError(`${file}: not a readable TIFF (${(error as Error).message})`);
  }
}

/**
 * Every page of a TIFF as float32 (C, H, W): integer samples scaled to [0, 1] by their bit depth,
 * float samples as stored; one channel for gray, three for colour (alpha dropped).
 */
export function decodeImageTiff(file: string, options: ReadImageOptions = {}): ImageRaster[] {
  return pages('decodeImageTiff', file, options).map((page, index) => {
    const { width, height } = page;
    const components = page.components;
    const channels = components >= 3 ? 3 : 1;
    const integer = page.sampleFormat !== 3;
    const scale = integer ? 2 ** page.bitsPerSample - 1 : 1;
    const data = page.data;
    if (data.length < width * height * components)
      throw new TiffError(`${file}: page ${index} holds ${data.length} samples, ${width}×${height}×${components} expected`);
    const plane = width * height;
    const values = new Float32Array(channels * plane);
    for (let k = 0; k < plane; k += 1) for (let c = 0; c < channels; c += 1) values[c * plane + k] = data[k * components + c]! / scale;
    return { channels, height, width, data: values };
  });
}

/** Every page of a single-channel integer TIFF as int32 (H × W) label ids. */
export function decodeLabelTiff(file: string, options: ReadImageOptions = {}): LabelRaster[] {
  return pages('decodeLabelTiff', file, options).map((page, index) => {
    if (page.components !== 1 || page.sampleFormat === 3) {
      throw new TiffError(
        `${file}: page ${index} is not a label image (one channel of integers expected, got ${page.components} channel(s)${page.sampleFormat === 3 ? ' of floats' : ''})`,
      );
    }
    return { height: page.height, width: page.width, data: Int32Array.from(page.data) };
  });
}
