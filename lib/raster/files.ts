// Image files by name: which reader a file needs, and a file's stem (what matches an image to its
// label and names its outputs).
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ImageRaster } from './image';
import { decodeImagePng, type ReadImageOptions } from './png';
import { decodeImageTiff } from './tiff';

/** The extensions the readers take. */
const IMAGE_EXTENSIONS = new Set(['.png', '.tif', '.tiff']);

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

/** The PNG and TIFF files of `folder` by stem, in name order; two files with one stem are an error. */
export function imageFilesByStem(folder: string): Map<string, string> {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`${folder}: no such folder`);
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(folder).sort()) {
    if (!IMAGE_EXTENSIONS.has(path.extname(entry).toLowerCase())) continue;
    const stem = stemOf(entry);
    if (files.has(stem)) throw new Error(`${folder}: both ${path.basename(files.get(stem)!)} and ${entry} are called '${stem}'`);
    files.set(stem, path.join(folder, entry));
  }
  return files;
}

/** The image files of `folder` (PNG and TIFF), sorted. */
export function listImageFiles(folder: string): string[] {
  return [...imageFilesByStem(folder).values()];
}
