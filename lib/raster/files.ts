// Image files by name: which reader a file needs, and a file's stem (what matches an image to its
// label and names its outputs).
import * as path from 'node:path';

import type { ImageRaster } from './image';
import { decodeImagePng, type ReadImageOptions } from './png';
import { decodeImageTiff } from './tiff';

/** Whether a file name is a TIFF's (.tif, .tiff). */
export function isTiffFile(file: string): boolean {
  return /\.tiff?$/i.test(file);
}

/** A file's name without its folder and extension: what matches an image to its label. */
export function stemOf(file: string): string {
  const name = path.basename(file);
  return name.slice(0, name.length - path.extname(name).length);
}

/** Every image of a file as arrays: one for PNG, one per page for TIFF. */
export function decodeImages(file: string, options: ReadImageOptions = {}): ImageRaster[] {
  return isTiffFile(file) ? decodeImageTiff(file, options) : [decodeImagePng(file, options)];
}
