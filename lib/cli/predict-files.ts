// What both engines of `unet predict` share: the flags, the input files, the TTA choice and
// which read errors skip a file. It loads no libtorch.
import * as fs from 'node:fs';

import * as path from 'node:path';

import { ImageTooLargeError } from '../io/limits';
import { ChannelsError, fitChannels } from '../raster/channels';
import { decodeImages, listImageFiles, stemOf } from '../raster/files';
import type { ImageRaster } from '../raster/image';
import type { PredictionFiles } from '../raster/outputs';
import { PngError } from '../raster/png';
import { TiffError } from '../raster/tiff';
import { UsageError, withFlags } from './command';

/** The flags of `unet predict` both engines read. */
export interface PredictValues {
  model?: string;
  out?: string;
  tile?: string;
  batch?: string;
  tta?: boolean;
  'no-tta'?: boolean;
  exact?: boolean;
  device?: string;
  precision?: string;
}

/** The image files named on the command line (folders expanded). */
export function inputFiles(positionals: string[]): string[] {
  const files = positionals.flatMap((input) => {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    return fs.statSync(input).isDirectory() ? listImageFiles(input) : [input];
  });
  if (files.length === 0) throw new Error(`no PNG or TIFF images in ${positionals.join(', ')}`);
  return files;
}

/** --tta / --no-tta, or undefined for the model's own choice. */
export function ttaFlag(values: PredictValues): boolean | undefined {
  if (values.tta && values['no-tta']) throw new UsageError('--tta and --no-tta contradict each other');
  return values['no-tta'] ? false : values.tta;
}

/**
 * What both engines read: every page of an image file, given a model's input `channels` by
 * fitChannels (a page it cannot fit is a ChannelsError, which `unreadable` reports and skips).
 */
export function pagesFor(channels: number): (file: string) => ImageRaster[] {
  return (file) => decodeImages(file).map((page) => fitChannels(page, channels, file));
}

/** Whether an error is a file the readers refuse, or whose channels the model cannot take (reported and skipped, not fatal). */
export function unreadable(error: unknown): boolean {
  return error instanceof ImageTooLargeError || error instanceof PngError || error instanceof TiffError || error instanceof ChannelsError;
}

/** What predicting one page gave: the files written and the page's size. */
export interface PredictedPage {
  written: PredictionFiles;
  width: number;
  height: number;
}

/**
 * Predicts every page of every file with `predict` (called with the page and its output name),
 * printing a line per page. A file that cannot be read (not an image, over --max-pixels, or of
 * channels the model cannot take) is reported and skipped, and the status is then 1; the others
 * are still done.
 */
export async function predictPages<P>(
  files: string[],
  read: (file: string) => P[],
  predict: (page: P, name: string) => PredictedPage | Promise<PredictedPage>,
): Promise<number> {
  const failed: string[] = [];
  for (const file of files) {
    let pages: P[];
    try {
      pages = read(file);
    } catch (error) {
      if (!unreadable(error)) throw error;
      process.stderr.write(`unet: ${(withFlags(error, { maxPixels: '--max-pixels' }) as Error).message}; skipped\n`);
      failed.push(file);
      continue;
    }
    for (const [index, page] of pages.entries()) {
      const start = Date.now();
      let done: PredictedPage;
      try {
        done = await predict(page, pages.length > 1 ? `${stemOf(file)}#${index}` : stemOf(file));
      } catch (error) {
        throw withFlags(error, { tileSize: '--tile', batchSize: '--batch' });
      }
      const { written, width, height } = done;
      process.stdout.write(
        `${file}${pages.length > 1 ? ` page ${index}` : ''}: ${width}×${height} in ${((Date.now() - start) / 1000).toFixed(1)} s → ${written.labels}, ${path.basename(written.overlay)}, ${path.basename(written.probabilities)}\n`,
      );
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`unet: ${failed.length} of ${files.length} file(s) could not be read: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}
