// Datasets from folders: `images/` and `labels/` with matching names (extensions may differ),
// PNG or TIFF; a multi-page TIFF is one sample per page.
import * as path from 'node:path';

import { describe, pathArg } from '../arguments';
import { arrayArg, positiveIntegerArg } from '../check';
import { checkOptions } from '../ops/options';
import { readImagePng, readLabelPng } from '../io/png';
import { readImageTiff, readLabelTiff } from '../io/tiff';
import { imageTensor } from '../io/image-tensor';
import { tidy } from '../memory';
import { ChannelsError, fitChannels } from '../raster/channels';
import type { ImageRaster } from '../raster/image';
import { decodeImages, imageFilesByStem, isTiffFile, stemOf } from '../raster/files';
import type { Tensor } from '../tensor';
import type { Sample } from './dataset';
import { normaliseImage, type Normalisation } from './normalise';

export { stemOf };

/** Thrown for a dataset folder that cannot be used; the message says what is missing or wrong. */
export class DatasetError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'DatasetError';
}

/** Every image of a file: one for PNG, one per page for TIFF. */
export function readImages(file: string): Tensor[] {
  pathArg('readImages', 'file', file);
  return isTiffFile(file) ? readImageTiff(file) : [readImagePng(file)];
}

/** Every label image of a file: one for PNG, one per page for TIFF. */
export function readLabels(file: string): Tensor[] {
  pathArg('readLabels', 'file', file);
  return isTiffFile(file) ? readLabelTiff(file) : [readLabelPng(file)];
}

function imageFiles(folder: string): Map<string, string> {
  try {
    return imageFilesByStem(folder);
  } catch (error) {
    throw new DatasetError((error as Error).message);
  }
}

/** The image files of `folder` (PNG and TIFF), sorted, for prediction. */
export function listImages(folder: string): string[] {
  pathArg('listImages', 'folder', folder);
  return [...imageFiles(folder).values()];
}

/** Options of `loadFolder`. */
export interface LoadFolderOptions {
  /**
   * The channels every image is given, by `unet predict`'s rule (a colour image for one channel
   * is its mean, or its first plane where all three are equal; a gray image for three is
   * repeated), so that gray and colour files may mix; an image no rule fits is a DatasetError
   * naming it. Without it, each image keeps its own channels, and a mix is refused.
   */
  channels?: number;
}

/**
 * Reads `root/images` and `root/labels` (names matched without their extensions). Images are
 * normalised per image (`zscore` unless `normalisation` says otherwise); a multi-page TIFF gives
 * samples `name#0`, `name#1`, …
 */
export function loadFolder(root: string, normalisation: Normalisation = 'zscore', options: LoadFolderOptions = {}): Sample[] {
  const { channels } = checkOptions('loadFolder', options, ['channels']);
  if (channels !== undefined) positiveIntegerArg('loadFolder', 'options.channels', channels);
  const images = imageFiles(path.join(root, 'images'));
  const labels = imageFiles(path.join(root, 'labels'));
  if (images.size === 0) throw new DatasetError(`${path.join(root, 'images')}: no PNG or TIFF images`);
  const unmatched = [...images.keys()].filter((stem) => !labels.has(stem));
  if (unmatched.length > 0)
    throw new DatasetError(
      `${root}: no label in labels/ for ${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ` and ${unmatched.length - 5} more` : ''} (names must match, extensions may differ)`,
    );
  const samples: Sample[] = [];
  for (const [stem, imageFile] of images) {
    const pages = decodeImages(imageFile).map((page) => imageTensor(channels === undefined ? page : fitted(page, channels, imageFile)));
    const labelPages = readLabels(labels.get(stem)!);
    if (pages.length !== labelPages.length)
      throw new DatasetError(`${imageFile} has ${pages.length} page(s) but its label ${labels.get(stem)} ${labelPages.length}`);
    pages.forEach((image, page) => {
      const label = labelPages[page]!;
      if (image.shape[1] !== label.shape[0] || image.shape[2] !== label.shape[1]) {
        throw new DatasetError(
          `${imageFile}${pages.length > 1 ? ` page ${page}` : ''} is ${image.shape[2]}×${image.shape[1]} but its label is ${label.shape[1]}×${label.shape[0]}`,
        );
      }
      samples.push({
        name: pages.length > 1 ? `${stem}#${page}` : stem,
        image: tidy(() => normaliseImage(image, normalisation)),
        normalisation,
        label,
      });
      image.dispose();
    });
  }
  const kinds = new Set(samples.map((sample) => sample.image.shape[0]));
  if (kinds.size > 1) throw new DatasetError(`${root}: images mix gray and colour; convert them to one kind`);
  return samples;
}

/** A page of `file` given `channels` by fitChannels; a page it cannot fit is a DatasetError. */
function fitted(page: ImageRaster, channels: number, file: string): ImageRaster {
  try {
    return fitChannels(page, channels, file);
  } catch (error) {
    if (error instanceof ChannelsError) throw new DatasetError(error.message);
    throw error;
  }
}

/**
 * Splits samples into training and validation deterministically: `fraction` of them (at least
 * one, when there are two or more) chosen by a seeded shuffle go to validation.
 */
export function splitSamples<
  T extends {
    /** The sample's name (its file's). */
    name: string;
  },
>(
  samples: T[],
  fraction: number,
  seed: number,
): {
  /** The samples left for training, in their given order. */
  train: T[];
  /** The samples drawn for validation. */
  validation: T[];
} {
  arrayArg('splitSamples', 'samples', samples);
  if (!(typeof fraction === 'number' && fraction >= 0 && fraction < 1))
    throw new RangeError(`splitSamples(): 'fraction' must be in [0, 1), got ${String(fraction)}`);
  if (typeof seed !== 'number') throw new TypeError(`splitSamples(): argument 'seed' must be a number, got ${describe(seed)}`);
  const count = samples.length < 2 || fraction === 0 ? 0 : Math.max(1, Math.round(samples.length * fraction));
  // A seeded Fisher–Yates over the names' order, independent of the file system's.
  const order = samples.map((_, k) => k);
  let state = seed >>> 0;
  for (let k = order.length - 1; k > 0; k -= 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (k + 1);
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  const held = new Set(order.slice(0, count));
  return { train: samples.filter((_, k) => !held.has(k)), validation: samples.filter((_, k) => held.has(k)) };
}
