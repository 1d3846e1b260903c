// Joining, splitting and padding.
import { native } from '../native';
import type { Tensor } from '../tensor';
import { checkOptions, oneOf } from './options';

/** Concatenates along an existing dimension. */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return native.cat(tensors, dim);
}
/** Joins along a new dimension. */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return native.stack(tensors, dim);
}
/** Views of pieces of `splitSize` (the last may be smaller), or of the listed sizes. */
export function split(input: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
  return typeof splitSize === 'number' ? native.split(input, splitSize, dim) : native.splitWithSizes(input, splitSize, dim);
}
/** Views of `chunks` nearly equal pieces. */
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return native.chunk(input, chunks, dim);
}

/** How `pad` fills the border. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
const PAD_MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];
/** Options of `pad`. */
export interface PadOptions {
  /** `'constant'` (default), `'reflect'`, `'replicate'` or `'circular'`. */
  mode?: PadMode;
  /** Fill value of `constant` padding. */
  value?: number;
}
/**
 * Pads the last dimensions: `pad` is [left, right] for the last dimension, then [top, bottom]
 * for the one before, and so on (PyTorch's order). Negative amounts crop.
 */
export function pad(input: Tensor, pad: number[], options?: PadOptions): Tensor {
  const { mode = 'constant', value } = checkOptions('pad', options, ['mode', 'value']);
  oneOf('pad', 'mode', mode, PAD_MODES);
  if (value !== undefined && mode !== 'constant') {
    throw new TypeError(`pad(): option 'value' applies only to mode 'constant', not '${mode}'`);
  }
  return native.pad(input, pad, mode, mode === 'constant' ? (value ?? 0) : undefined);
}
