// Shape: views and copies that rearrange dimensions. Negative dims count from the end.
import { native } from '../native';
import type { Tensor } from '../tensor';

/** How a tensor's elements are laid out in memory. */
export type MemoryFormat = 'contiguous' | 'channelsLast' | 'preserve';

/** The same elements with another shape; one size may be -1. A view when possible. */
export function reshape(input: Tensor, shape: number[]): Tensor {
  return native.reshape(input, shape);
}
/** A view with another shape; throws when the strides do not allow one (use `reshape`). */
export function view(input: Tensor, shape: number[]): Tensor {
  return native.view(input, shape);
}
/** A view with the dimensions in the order `dims`. */
export function permute(input: Tensor, dims: number[]): Tensor {
  return native.permute(input, dims);
}
/** A view with `dim0` and `dim1` swapped. */
export function transpose(input: Tensor, dim0: number, dim1: number): Tensor {
  return native.transpose(input, dim0, dim1);
}
/** Removes dimensions of size 1 (only those in `dim`, when given). */
export function squeeze(input: Tensor, dim?: number | number[]): Tensor {
  return native.squeeze(input, dim);
}
/** Inserts a dimension of size 1 at `dim`. */
export function unsqueeze(input: Tensor, dim: number): Tensor {
  return native.unsqueeze(input, dim);
}
/** Merges the dimensions `startDim`..`endDim` into one. */
export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return native.flatten(input, startDim, endDim);
}
/** A view that repeats size-1 dimensions to `size` (-1 keeps a size) without copying. */
export function expand(input: Tensor, size: number[]): Tensor {
  return native.expand(input, size);
}
/** Tiles the tensor `repeats[d]` times along each dimension (a copy). */
export function repeat(input: Tensor, repeats: number[]): Tensor {
  return native.repeat(input, repeats);
}
/** The tensor itself when already laid out as asked, else a copy that is. */
export function contiguous(input: Tensor, memoryFormat: MemoryFormat = 'contiguous'): Tensor {
  return native.contiguous(input, memoryFormat);
}
/** Whether the tensor is laid out as `memoryFormat` (row-major by default). */
export function isContiguous(input: Tensor, memoryFormat: MemoryFormat = 'contiguous'): boolean {
  return native.isContiguous(input, memoryFormat);
}
/** Element strides of each dimension. */
export function stride(input: Tensor): number[] {
  return native.stride(input);
}
/** Reverses the order of elements along `dims` (a copy). */
export function flip(input: Tensor, dims: number | number[]): Tensor {
  return native.flip(input, dims);
}
/** Rolls elements along `dims` by `shifts`, wrapping around. */
export function roll(input: Tensor, shifts: number | number[], dims: number | number[]): Tensor {
  return native.roll(input, shifts, dims);
}
