// Models that ship in the package (models/NAME: model.json and float16 weights): their names and
// folders. It loads nothing, so that the ONNX engine's command line can name them too;
// lib/unet/pretrained loads them.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe } from '../arguments';
import { packageRoot } from '../package-root';

/** The models in the package, with what each segments. */
export const PRETRAINED = {
  /** `models/nuclei`: trained on 27 DSB2018 images; its card has the recipe and held-out scores. */
  nuclei: 'fluorescent cell nuclei (DSB2018, CC0): the compact U-Net with a border class between touching nuclei',
} as const;

/** The name of a model the package ships. */
export type PretrainedName = keyof typeof PRETRAINED;

/** The folder of a shipped model. */
export function pretrainedFolder(name: string): string {
  if (typeof name !== 'string' || !Object.hasOwn(PRETRAINED, name))
    throw new RangeError(`unknown pretrained model '${String(name)}'; the package ships: ${Object.keys(PRETRAINED).join(', ')}`);
  const folder = path.join(packageRoot, 'models', name);
  if (!fs.existsSync(path.join(folder, 'model.json')))
    throw new Error(`${folder}: the pretrained model '${name}' is missing from this installation`);
  return folder;
}

/** A model location for prediction: a folder or file when one exists, else the name of a shipped model. */
export function resolveModel(location: string): string {
  if (typeof location !== 'string' || location === '')
    throw new TypeError(
      `resolveModel(): argument 'location' must be a folder, a file or a shipped model's name, got ${describe(location)}`,
    );
  if (fs.existsSync(location)) return location;
  if (Object.hasOwn(PRETRAINED, location)) return pretrainedFolder(location);
  throw new Error(`${location}: no such model folder or file, and not a shipped model (${Object.keys(PRETRAINED).join(', ')})`);
}
