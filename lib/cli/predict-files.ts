// What both engines of `unet predict` share: the flags, the input files, the TTA choice and
// which read errors skip a file. It loads no libtorch.
import * as fs from 'node:fs';

import { ImageTooLargeError } from '../io/limits';
import { listImageFiles } from '../raster/files';
import { PngError } from '../raster/png';
import { TiffError } from '../raster/tiff';
import { UsageError } from './command';

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

/** Whether an error is a file the readers refuse (reported and skipped, not fatal). */
export function unreadable(error: unknown): boolean {
  return error instanceof ImageTooLargeError || error instanceof PngError || error instanceof TiffError;
}
