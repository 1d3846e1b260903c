// Comparison and logic. Results are bool tensors, broadcast as in PyTorch.
import { native } from '../native';
import { checkOptions } from './options';
import type { Tensor, TensorLike } from '../tensor';

/** `input == other`. */
export function eq(input: Tensor, other: TensorLike): Tensor {
  return native.eq(input, other);
}
/** `input != other`. */
export function ne(input: Tensor, other: TensorLike): Tensor {
  return native.ne(input, other);
}
/** `input < other`. */
export function lt(input: Tensor, other: TensorLike): Tensor {
  return native.lt(input, other);
}
/** `input <= other`. */
export function le(input: Tensor, other: TensorLike): Tensor {
  return native.le(input, other);
}
/** `input > other`. */
export function gt(input: Tensor, other: TensorLike): Tensor {
  return native.gt(input, other);
}
/** `input >= other`. */
export function ge(input: Tensor, other: TensorLike): Tensor {
  return native.ge(input, other);
}
/** Elementwise logical and: true where both are non-zero (a bool tensor). */
export function logicalAnd(input: Tensor, other: TensorLike): Tensor {
  return native.logicalAnd(input, other);
}
/** Elementwise logical or: true where either is non-zero (a bool tensor). */
export function logicalOr(input: Tensor, other: TensorLike): Tensor {
  return native.logicalOr(input, other);
}
/** Elementwise logical not: true where `input` is zero (a bool tensor). */
export function logicalNot(input: Tensor): Tensor {
  return native.logicalNot(input);
}
/** True where `input` is NaN (a bool tensor). */
export function isnan(input: Tensor): Tensor {
  return native.isnan(input);
}
/** True where `input` is neither infinite nor NaN (a bool tensor). */
export function isfinite(input: Tensor): Tensor {
  return native.isfinite(input);
}
/** Elements of `input` where `condition` holds, of `other` elsewhere. */
export function where(condition: Tensor, input: TensorLike, other: TensorLike): Tensor {
  return native.where(condition, input, other);
}
/** True when both have the same shape and elements. */
export function equal(input: Tensor, other: Tensor): boolean {
  return native.equal(input, other);
}
/** Options of `allclose`. */
export interface AllcloseOptions {
  /** The tolerance relative to `other` (default 1e-5). */
  rtol?: number;
  /** The absolute tolerance (default 1e-8). */
  atol?: number;
  /** Count NaN as equal to NaN (default false). */
  equalNan?: boolean;
}
/** `|input - other| <= atol + rtol * |other|` everywhere. */
export function allclose(input: Tensor, other: Tensor, options: AllcloseOptions = {}): boolean {
  options = checkOptions('allclose', options, ['rtol', 'atol', 'equalNan']);
  return native.allclose(input, other, options.rtol ?? 1e-5, options.atol ?? 1e-8, options.equalNan ?? false);
}
