import { type AnyTypedArray, type DType, type TypedArrayOf, isDType, viewAs } from './dtype';
import { formatTensor } from './format';
import { native } from './native';

const handleKey = Symbol('unet-torch.handle');
const constructToken = Symbol('unet-torch.construct');

/** A number or boolean used where a tensor is expected acts like a 0-d tensor (a Python scalar). */
export type TensorLike = Tensor | number | boolean;

/** A nested array of numbers or booleans, as `toArray()` returns and `torch.tensor()` takes. */
export type NestedArray = number | boolean | NestedArray[];

/** Options of reductions. */
export interface ReduceOptions {
  /** Keep reduced dimensions with size 1. */
  keepdim?: boolean;
  /** Accumulate and return in this dtype. */
  dtype?: DType;
}

/** Where `to()` sends a tensor. */
export interface ToOptions {
  dtype?: DType;
  device?: string;
}

/**
 * A torch tensor. Create one with `torch.tensor`, `torch.zeros` and the like. Its memory is freed
 * by `dispose()`, by the end of the `torch.tidy` scope that created it, by `using`, or, as a
 * backstop only, when it is garbage collected.
 */
export class Tensor {
  /** The handle of this tensor in the addon's table of the current thread. */
  private readonly [handleKey]: number;

  /** @internal Tensors come from the addon; `new Tensor()` throws. */
  constructor(token: symbol, handle: number) {
    if (token !== constructToken) {
      throw new TypeError('Tensor cannot be constructed with `new`: use torch.tensor(), torch.zeros() and the like');
    }
    this[handleKey] = handle;
  }

  /** The size of each dimension. */
  get shape(): number[] {
    return native.shape(this);
  }

  /** The element type. */
  get dtype(): DType {
    return native.dtype(this);
  }

  /** `'cpu'` or `'cuda:N'`. */
  get device(): string {
    return native.device(this);
  }

  /** Whether autograd records operations on this tensor. */
  get requiresGrad(): boolean {
    return native.requiresGrad(this);
  }

  set requiresGrad(requiresGrad: boolean) {
    native.setRequiresGrad(this, requiresGrad);
  }

  /** True once the tensor's memory has been released. */
  get isDisposed(): boolean {
    return native.isDisposed(this);
  }

  /** Frees the tensor's memory now. Using the tensor afterwards throws. Idempotent. */
  dispose(): void {
    native.dispose(this);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  numel(): number {
    return this.shape.reduce((product, size) => product * size, 1);
  }

  /** For `using t = torch.zeros(...)`: disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // --- conversions -----------------------------------------------------------------------------

  /** A copy with another dtype and/or on another device; `this` itself when nothing changes. */
  to(target: DType | string | ToOptions): Tensor {
    const options: ToOptions = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    let result: Tensor = this;
    if (options.device !== undefined) result = native.toDevice(result, options.device);
    if (options.dtype !== undefined) {
      const converted = native.toDtype(result, options.dtype);
      if (result !== this) result.dispose();
      result = converted;
    }
    return result;
  }

  /** This tensor on the CPU. */
  cpu(): Tensor {
    return native.toDevice(this, 'cpu');
  }

  /** This tensor on a CUDA device (`'cuda'` or `'cuda:N'`). */
  cuda(device = 'cuda'): Tensor {
    return native.toDevice(this, device);
  }

  /** A copy with its own memory. */
  clone(): Tensor {
    return native.clone(this);
  }

  /** The same data, cut off from the autograd graph. */
  detach(): Tensor {
    return native.detach(this);
  }

  // --- arithmetic ------------------------------------------------------------------------------

  /** `this + alpha * other`, broadcasting. */
  add(other: TensorLike, alpha = 1): Tensor {
    return native.add(this, other, alpha);
  }

  /** In place: `this += alpha * other`. Returns `this`. */
  add_(other: TensorLike, alpha = 1): this {
    native.add_(this, other, alpha);
    return this;
  }

  /** `this - alpha * other`, broadcasting. */
  sub(other: TensorLike, alpha = 1): Tensor {
    return native.sub(this, other, alpha);
  }

  /** Elementwise product, broadcasting. */
  mul(other: TensorLike): Tensor {
    return native.mul(this, other);
  }

  /** In place: `this *= other`. Returns `this`. */
  mul_(other: TensorLike): this {
    native.mul_(this, other);
    return this;
  }

  /** Division, broadcasting: true division, or rounded with `roundingMode` 'trunc' or 'floor'. */
  div(other: TensorLike, roundingMode?: 'trunc' | 'floor'): Tensor {
    return native.div(this, other, roundingMode);
  }

  neg(): Tensor {
    return native.neg(this);
  }

  matmul(other: Tensor): Tensor {
    return native.matmul(this, other);
  }

  /** Sum over `dim` (all dimensions when omitted). */
  sum(dim?: number | number[], options: ReduceOptions = {}): Tensor {
    return native.sum(this, dim, options.keepdim ?? false, options.dtype);
  }

  /** Mean over `dim` (all dimensions when omitted). */
  mean(dim?: number | number[], options: ReduceOptions = {}): Tensor {
    return native.mean(this, dim, options.keepdim ?? false, options.dtype);
  }

  reshape(shape: number[]): Tensor {
    return native.reshape(this, shape);
  }

  // --- autograd --------------------------------------------------------------------------------

  /** Sets `requiresGrad` in place and returns `this`. */
  requiresGrad_(requiresGrad = true): this {
    this.requiresGrad = requiresGrad;
    return this;
  }

  /** Computes gradients of this tensor with respect to the graph's leaves. */
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const createGraph = options.createGraph ?? false;
    native.backward(this, gradient, options.retainGraph ?? createGraph, createGraph);
  }

  /** The accumulated gradient, or null. Each read returns a new handle onto the same memory. */
  get grad(): Tensor | null {
    return native.grad(this);
  }

  // --- readback --------------------------------------------------------------------------------

  /** The value of a one-element tensor. */
  item(): number | boolean {
    return native.item(this);
  }

  /** A copy of the elements in row-major order; float16/bfloat16 widen to Float32Array. */
  toTypedArray(): AnyTypedArray {
    return viewAs(this.dtype, native.toArrayBuffer(this));
  }

  /** The elements as nested arrays (booleans for bool tensors, numbers otherwise). */
  toArray(): NestedArray {
    const flat = Array.from(this.toTypedArray() as ArrayLike<number | bigint>, (value) =>
      this.dtype === 'bool' ? value !== 0 : Number(value),
    );
    return nest(flat, this.shape);
  }

  /** Like `toTypedArray()`, but the copy (and any device synchronisation) runs off the main thread. */
  async data(): Promise<AnyTypedArray> {
    const dtype = this.dtype;
    return viewAs(dtype, await native.readAsync(this));
  }

  /** Prints like PyTorch: `tensor([[1., 2.], [3., 4.]], dtype=torch.float64)`. */
  toString(): string {
    return this.isDisposed ? 'tensor(<disposed>)' : formatTensor(this);
  }
}

function nest(flat: (number | boolean)[], shape: number[]): NestedArray {
  if (shape.length === 0) return flat[0] as number | boolean;
  const [size, ...inner] = shape as [number, ...number[]];
  const stride = inner.reduce((product, extent) => product * extent, 1);
  return Array.from({ length: size }, (_, k) => nest(flat.slice(k * stride, (k + 1) * stride), inner));
}

native.setTensorClass(Tensor, handleKey, constructToken);

export type { TypedArrayOf };
