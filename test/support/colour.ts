// A gray PNG written again as RGB with its values in all three channels: a gray image stored as
// colour, as the DSB2018 set's own PNGs are (written by pngjs, not by the library under test).
import * as fs from 'node:fs';

import { PNG } from 'pngjs';

import { decodeImagePng } from '../../lib/raster/png';

/** Writes `grayFile`'s 8-bit gray values as an RGB (alpha 255) PNG at `rgbFile`. */
export function writeGrayAsRgbPng(grayFile: string, rgbFile: string): void {
  const gray = decodeImagePng(grayFile);
  if (gray.channels !== 1) throw new Error(`${grayFile}: not a gray image`);
  const rgb = new PNG({ width: gray.width, height: gray.height });
  for (const [k, value] of gray.data.entries()) rgb.data.fill(Math.round(value * 255), 4 * k, 4 * k + 3).fill(255, 4 * k + 3, 4 * k + 4);
  fs.writeFileSync(rgbFile, PNG.sync.write(rgb));
}
