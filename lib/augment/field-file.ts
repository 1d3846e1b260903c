// Displacement fields as .npy files (float32, H × W × 2 in pixels, last axis (dy, dx)), so that a
// deformation can be reproduced elsewhere, e.g. with scipy's map_coordinates.
import { loadNpy, saveNpy } from '../io/npy';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { pathArg } from '../arguments';
import { tensorArg } from '../check';

/** Writes one field (H, W, 2) as float32 .npy, atomically. */
export function saveField(file: string, field: Tensor): void {
  pathArg('saveField', 'file', file);
  tensorArg('saveField', 'field', field);
  if (field.ndim !== 3 || field.shape[2] !== 2)
    throw new RangeError(`saveField(): argument 'field' must be (H, W, 2), got shape [${field.shape}]`);
  tidy(() => saveNpy(file, field.to('float32').cpu()));
}

/** Reads a field (H, W, 2) written by `saveField` (or NumPy), as float32 on the CPU. */
export function loadField(file: string): Tensor {
  const field = loadNpy(file);
  if (field.ndim !== 3 || field.shape[2] !== 2 || !field.dtype.startsWith('float')) {
    const shape = field.shape;
    const dtype = field.dtype;
    field.dispose();
    throw new RangeError(`loadField(): ${file} must hold a floating (H, W, 2) field (dy, dx), got ${dtype} [${shape}]`);
  }
  return tidy(() => field.to('float32'));
}
