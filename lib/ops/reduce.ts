// Reductions over all elements, or over `dim` with `keepdim`.
import type { DType } from '../dtype';
import { native } from '../native';
import { checkOptions } from './options';
import type { Tensor } from '../tensor';

/** Options of reductions. */
export interface ReduceOptions {
  /** Keep reduced dimensions with size 1. */
  keepdim?: boolean;
}
/** Options of `sum` and `mean`. */
export interface SumOptions extends ReduceOptions {
  /** Accumulate and return in this dtype. */
  dtype?: DType;
}
/** Options of `std` and `var`. */
export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the element count in the divisor: 1 (default, Bessel's) or 0. */
  correction?: number;
}
/** The values and their positions, from `max`/`min` over a dimension. */
export interface ValuesIndices {
  /** The maxima (or minima) along the dimension. */
  values: Tensor;
  /** Where along it each was found (int64). */
  indices: Tensor;
}

/** Sum over `dim` (all dimensions when omitted). */
export function sum(input: Tensor, dim?: number | number[], options: SumOptions = {}): Tensor {
  options = checkOptions('sum', options, ['keepdim', 'dtype']);
  return native.sum(input, dim, options.keepdim ?? false, options.dtype);
}
/** Mean over `dim` (all dimensions when omitted). */
export function mean(input: Tensor, dim?: number | number[], options: SumOptions = {}): Tensor {
  options = checkOptions('mean', options, ['keepdim', 'dtype']);
  return native.mean(input, dim, options.keepdim ?? false, options.dtype);
}
/** Product over `dim` (all elements when omitted). */
export function prod(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  options = checkOptions('prod', options, ['keepdim']);
  return native.prod(input, dim, options.keepdim ?? false);
}
/** The largest element; with `dim`, the largest values along it and their indices. */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, dim: number, options?: ReduceOptions): ValuesIndices;
export function max(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor | ValuesIndices {
  options = checkOptions('max', options, ['keepdim']);
  if (dim === undefined) return native.maxAll(input);
  const [values, indices] = native.maxDim(input, dim, options.keepdim ?? false);
  return { values, indices };
}
/** The smallest element; with `dim`, the smallest values along it and their indices. */
export function min(input: Tensor): Tensor;
export function min(input: Tensor, dim: number, options?: ReduceOptions): ValuesIndices;
export function min(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor | ValuesIndices {
  options = checkOptions('min', options, ['keepdim']);
  if (dim === undefined) return native.minAll(input);
  const [values, indices] = native.minDim(input, dim, options.keepdim ?? false);
  return { values, indices };
}
/** Index of the largest element (of the flattened tensor when `dim` is omitted). */
export function argmax(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  options = checkOptions('argmax', options, ['keepdim']);
  return native.argmax(input, dim, options.keepdim ?? false);
}
/** Index of the smallest element (of the flattened tensor when `dim` is omitted). */
export function argmin(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  options = checkOptions('argmin', options, ['keepdim']);
  return native.argmin(input, dim, options.keepdim ?? false);
}
/** Standard deviation over `dim` (all elements when omitted). */
export function std(input: Tensor, dim?: number | number[], options: VarianceOptions = {}): Tensor {
  options = checkOptions('std', options, ['correction', 'keepdim']);
  return native.std(input, dim, options.correction ?? 1, options.keepdim ?? false);
}
function variance(input: Tensor, dim?: number | number[], options: VarianceOptions = {}): Tensor {
  options = checkOptions('var', options, ['correction', 'keepdim']);
  return native.var(input, dim, options.correction ?? 1, options.keepdim ?? false);
}
// `var` is a reserved word, so not a function's name; an export's name may be one.
export {
  /** Variance over `dim` (all elements when omitted). */
  variance as var,
};
/** The p-norm (2 by default) over `dim` (all elements when omitted). */
export function norm(input: Tensor, p = 2, dim?: number | number[], options: ReduceOptions = {}): Tensor {
  options = checkOptions('norm', options, ['keepdim']);
  return native.norm(input, p, dim, options.keepdim ?? false);
}
/** Whether every element is true (non-zero), over `dim` or all elements. */
export function all(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  options = checkOptions('all', options, ['keepdim']);
  return native.all(input, dim, options.keepdim ?? false);
}
/** Whether any element is true (non-zero), over `dim` or all elements. */
export function any(input: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  options = checkOptions('any', options, ['keepdim']);
  return native.any(input, dim, options.keepdim ?? false);
}
/** Cumulative sum along `dim`. */
export function cumsum(input: Tensor, dim: number): Tensor {
  return native.cumsum(input, dim);
}
