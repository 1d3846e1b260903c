// Elementwise arithmetic and math, with PyTorch's broadcasting and type promotion (a JS number
// acts like a Python scalar: `intTensor.add(2)` stays integral, `intTensor.add(2.5)` is float).
import { native } from '../native';
import type { Tensor, TensorLike } from '../tensor';

/** `input + alpha * other`. */
export function add(input: Tensor, other: TensorLike, alpha = 1): Tensor {
  return native.add(input, other, alpha);
}
/** In place: `input += alpha * other`. Returns `input`. */
export function add_(input: Tensor, other: TensorLike, alpha = 1): Tensor {
  native.add_(input, other, alpha);
  return input;
}
/** `input - alpha * other`. */
export function sub(input: Tensor, other: TensorLike, alpha = 1): Tensor {
  return native.sub(input, other, alpha);
}
/** In place: `input -= alpha * other`. Returns `input`. */
export function sub_(input: Tensor, other: TensorLike, alpha = 1): Tensor {
  native.sub_(input, other, alpha);
  return input;
}
/** Elementwise product. */
export function mul(input: Tensor, other: TensorLike): Tensor {
  return native.mul(input, other);
}
/** In place: `input *= other`. Returns `input`. */
export function mul_(input: Tensor, other: TensorLike): Tensor {
  native.mul_(input, other);
  return input;
}
/** Rounding of `div`: none (true division), towards zero, or towards minus infinity. */
export type RoundingMode = 'trunc' | 'floor';
/** Division: true division, or rounded with `roundingMode`. */
export function div(input: Tensor, other: TensorLike, roundingMode?: RoundingMode): Tensor {
  return native.div(input, other, roundingMode);
}
/** In place `div`. Returns `input`. */
export function div_(input: Tensor, other: TensorLike, roundingMode?: RoundingMode): Tensor {
  native.div_(input, other, roundingMode);
  return input;
}
/** `input ** exponent`; `input` may be a number (`torch.pow(2, t)`). */
export function pow(input: Tensor | number, exponent: TensorLike): Tensor {
  return typeof input === 'number' ? native.powScalarBase(input, exponent as Tensor) : native.pow(input, exponent);
}
/** Elementwise minimum (PyTorch's `torch.minimum`). */
export function minimum(input: Tensor, other: TensorLike): Tensor {
  return native.minimum(input, other);
}
/** Elementwise maximum (PyTorch's `torch.maximum`). */
export function maximum(input: Tensor, other: TensorLike): Tensor {
  return native.maximum(input, other);
}
/** `input + weight * (end - input)`. */
export function lerp(input: Tensor, end: Tensor, weight: TensorLike): Tensor {
  return native.lerp(input, end, weight);
}
/** Clamps into [min, max]; either bound may be omitted. */
export function clamp(input: Tensor, min?: number, max?: number): Tensor {
  return native.clamp(input, min, max);
}
/** In place `clamp`. Returns `input`. */
export function clamp_(input: Tensor, min?: number, max?: number): Tensor {
  native.clamp_(input, min, max);
  return input;
}

/** `-input`. */
export function neg(input: Tensor): Tensor {
  return native.neg(input);
}
/** Square root (NaN below zero). */
export function sqrt(input: Tensor): Tensor {
  return native.sqrt(input);
}
/** `1 / sqrt(input)`. */
export function rsqrt(input: Tensor): Tensor {
  return native.rsqrt(input);
}
/** `e ** input`. */
export function exp(input: Tensor): Tensor {
  return native.exp(input);
}
/** Natural logarithm. */
export function log(input: Tensor): Tensor {
  return native.log(input);
}
/** `log(1 + input)`, accurate for small inputs. */
export function log1p(input: Tensor): Tensor {
  return native.log1p(input);
}
/** Absolute value. */
export function abs(input: Tensor): Tensor {
  return native.abs(input);
}
/** -1, 0 or 1 by sign. */
export function sign(input: Tensor): Tensor {
  return native.sign(input);
}
/** Rounds down to an integral value (the dtype stays). */
export function floor(input: Tensor): Tensor {
  return native.floor(input);
}
/** Rounds up to an integral value (the dtype stays). */
export function ceil(input: Tensor): Tensor {
  return native.ceil(input);
}
/** Rounds half to even, as PyTorch does. */
export function round(input: Tensor): Tensor {
  return native.round(input);
}
/** In place `neg`. Returns `input`. */
export function neg_(input: Tensor): Tensor {
  native.neg_(input);
  return input;
}
/** In place `sqrt`. Returns `input`. */
export function sqrt_(input: Tensor): Tensor {
  native.sqrt_(input);
  return input;
}
/** In place `exp`. Returns `input`. */
export function exp_(input: Tensor): Tensor {
  native.exp_(input);
  return input;
}
/** Fills with zeros in place. Returns `input`. */
export function zero_(input: Tensor): Tensor {
  native.zero_(input);
  return input;
}
/** Fills with `value` in place. Returns `input`. */
export function fill_(input: Tensor, value: number | boolean): Tensor {
  native.fill_(input, value);
  return input;
}
/** Copies `source` (broadcast, converted) into `input`. Returns `input`. */
export function copy_(input: Tensor, source: Tensor): Tensor {
  native.copy_(input, source);
  return input;
}
/** In place: `input += weight * (end - input)`. Returns `input`. */
export function lerp_(input: Tensor, end: Tensor, weight: TensorLike): Tensor {
  native.lerp_(input, end, weight);
  return input;
}
/** `input + value * tensor1 * tensor2`. */
export function addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, value = 1): Tensor {
  return native.addcmul(input, tensor1, tensor2, value);
}
/** In place `addcmul`. Returns `input`. */
export function addcmul_(input: Tensor, tensor1: Tensor, tensor2: Tensor, value = 1): Tensor {
  native.addcmul_(input, tensor1, tensor2, value);
  return input;
}
/** In place: `input += value * tensor1 / tensor2`. Returns `input`. */
export function addcdiv_(input: Tensor, tensor1: Tensor, tensor2: Tensor, value = 1): Tensor {
  native.addcdiv_(input, tensor1, tensor2, value);
  return input;
}
/** `1 / input`. */
export function reciprocal(input: Tensor): Tensor {
  return native.reciprocal(input);
}
/** The error function. */
export function erf(input: Tensor): Tensor {
  return native.erf(input);
}
/** In place inverse error function. Returns `input`. */
export function erfinv_(input: Tensor): Tensor {
  native.erfinv_(input);
  return input;
}
/** Fills in place with U(from, to). Returns `input`. */
export function uniform_(input: Tensor, from = 0, to = 1): Tensor {
  native.uniform_(input, from, to);
  return input;
}
/** Fills in place with N(mean, std²). Returns `input`. */
export function normal_(input: Tensor, mean = 0, std = 1): Tensor {
  native.normal_(input, mean, std);
  return input;
}
