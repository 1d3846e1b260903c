// Tensor factories: torch.tensor, zeros, ones, full, empty, arange, linspace, eye, rand, randn, randint.
import type { DType } from './dtype';
import { native } from './native';
import { type NestedArray, Tensor } from './tensor';
import { tensorArg } from './check';
import { checkOptions } from './ops/options';

/** Options every factory takes. */
export interface CreationOptions {
  /** Element type; PyTorch's default for the factory when omitted (float32 for most). */
  dtype?: DType;
  /** `'cpu'` (default), `'cuda'` or `'cuda:N'`. */
  device?: string;
  /** Whether autograd tracks the new tensor. */
  requiresGrad?: boolean;
}

/** A tensor shape: the extent of each dimension. */
export type Shape = number[];

function creationOptions(fn: string, options: CreationOptions): CreationOptions {
  return checkOptions(fn, options, ['dtype', 'device', 'requiresGrad']);
}

function finish(tensor: Tensor, options: CreationOptions): Tensor {
  if (options.requiresGrad) tensor.requiresGrad = true;
  return tensor;
}

function inferShape(data: NestedArray, path: string): number[] {
  if (!Array.isArray(data)) return [];
  if (data.length === 0) return [0];
  const inner = inferShape(data[0] as NestedArray, `${path}[0]`);
  data.forEach((element, k) => {
    const shape = inferShape(element, `${path}[${k}]`);
    if (shape.length !== inner.length || shape.some((size, d) => size !== inner[d])) {
      throw new RangeError(`torch.tensor(): argument 'data' is ragged: ${path}[${k}] has shape [${shape}] but ${path}[0] has [${inner}]`);
    }
  });
  return [data.length, ...inner];
}

function flatten(data: NestedArray, into: (number | boolean)[]): void {
  if (Array.isArray(data)) for (const element of data) flatten(element, into);
  else into.push(data);
}

function fromNested(data: NestedArray, options: CreationOptions): Tensor {
  const shape = inferShape(data, 'data');
  const flat: (number | boolean)[] = [];
  flatten(data, flat);
  const booleans = flat.filter((value) => typeof value === 'boolean').length;
  if (booleans > 0 && booleans < flat.length) {
    throw new TypeError("torch.tensor(): argument 'data' mixes booleans and numbers");
  }
  for (const value of flat) {
    if (typeof value !== 'boolean' && typeof value !== 'number') {
      throw new TypeError(`torch.tensor(): argument 'data' must hold numbers or booleans, got ${typeof value}`);
    }
  }
  const inferred: DType =
    flat.length > 0 && booleans === flat.length
      ? 'bool'
      : flat.every((value) => Number.isInteger(value)) && flat.length > 0
        ? 'int64'
        : 'float32';
  const values = Float64Array.from(flat, Number);
  const staged = native.fromTypedArray(values, shape);
  try {
    return staged.to({ dtype: options.dtype ?? inferred, device: options.device });
  } finally {
    staged.dispose();
  }
}

/**
 * A new tensor holding a copy of `data`: a number, a boolean, a nested array or a typed array.
 * Like PyTorch, integers give int64, other numbers float32, booleans bool; a typed array keeps
 * its own element type. JS cannot tell `2.0` from `2`: pass `dtype` for a float tensor of whole numbers.
 */
export function tensor(data: NestedArray | ArrayBufferView | Tensor, options: CreationOptions = {}): Tensor {
  options = creationOptions('tensor', options);
  let result: Tensor;
  if (data instanceof Tensor) {
    const copy = data.detach();
    result = copy.to(options);
    result = result === copy ? copy.clone() : result;
    copy.dispose();
  } else if (ArrayBuffer.isView(data)) {
    const staged = native.fromTypedArray(data, [(data as unknown as ArrayLike<unknown>).length]);
    result = staged.to(options);
    if (result !== staged) staged.dispose();
  } else if (typeof data === 'number' || typeof data === 'boolean' || Array.isArray(data)) {
    result = fromNested(data, options);
  } else {
    throw new TypeError(
      `torch.tensor(): argument 'data' must be a number, boolean, nested array, typed array or Tensor, got ${typeof data}`,
    );
  }
  return finish(result, options);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('zeros', options);
  return finish(native.zeros(shape, options.dtype, options.device), options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('ones', options);
  return finish(native.ones(shape, options.dtype, options.device), options);
}

/** A tensor with uninitialised memory. */
export function empty(shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('empty', options);
  return finish(native.empty(shape, options.dtype, options.device), options);
}

/** A tensor filled with `value` (int64 for an integer, float32 for another number, bool for a boolean). */
export function full(shape: Shape, value: number | boolean, options: CreationOptions = {}): Tensor {
  options = creationOptions('full', options);
  return finish(native.full(shape, value, options.dtype, options.device), options);
}

/** Zeros with the shape (and by default dtype and device) of `like`. */
export function zerosLike(like: Tensor, options: CreationOptions = {}): Tensor {
  options = creationOptions('zerosLike', options);
  tensorArg('zerosLike', 'like', like);
  return zeros(like.shape, { dtype: like.dtype, device: like.device, ...options });
}

/** Ones with the shape (and by default dtype and device) of `like`. */
export function onesLike(like: Tensor, options: CreationOptions = {}): Tensor {
  options = creationOptions('onesLike', options);
  tensorArg('onesLike', 'like', like);
  return ones(like.shape, { dtype: like.dtype, device: like.device, ...options });
}

/**
 * Values from `start` up to (not including) `end` in steps of `step`; `arange(n)` is 0..n-1.
 * int64 when all arguments are integers, float32 otherwise, as in PyTorch.
 */
export function arange(start: number, end?: number, step = 1, options: CreationOptions = {}): Tensor {
  options = creationOptions('arange', options);
  const [from, to] = end === undefined ? [0, start] : [start, end];
  return finish(native.arange(from, to, step, options.dtype, options.device), options);
}

/** `steps` values evenly spaced from `start` to `end`, both included. */
export function linspace(start: number, end: number, steps: number, options: CreationOptions = {}): Tensor {
  options = creationOptions('linspace', options);
  return finish(native.linspace(start, end, steps, options.dtype, options.device), options);
}

/** The n×m identity (n×n when m is omitted). */
export function eye(n: number, m?: number, options: CreationOptions = {}): Tensor {
  options = creationOptions('eye', options);
  return finish(native.eye(n, m, options.dtype, options.device), options);
}

/** Uniform samples in [0, 1), from the seeded global generator. */
export function rand(shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('rand', options);
  return finish(native.rand(shape, options.dtype, options.device), options);
}

/** Standard normal samples, from the seeded global generator. */
export function randn(shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('randn', options);
  return finish(native.randn(shape, options.dtype, options.device), options);
}

/** Integers uniform in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: Shape, options: CreationOptions = {}): Tensor {
  options = creationOptions('randint', options);
  return finish(native.randint(low, high, shape, options.dtype, options.device), options);
}
