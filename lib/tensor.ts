import { type AnyTypedArray, type DType, type TypedArrayOf, isDType, viewAs } from './dtype';
import './errors'; // registers OutOfMemoryError with the addon before any tensor exists
import { formatTensor } from './format';
import { native } from './native';
import * as reduce from './ops/reduce';
import type { ReduceOptions, ValuesIndices } from './ops/reduce';
import type { MemoryFormat } from './ops/shape';

const handleKey = Symbol('unet-torch.handle');
const constructToken = Symbol('unet-torch.construct');

/** A number or boolean used where a tensor is expected acts like a 0-d tensor (a Python scalar). */
export type TensorLike = Tensor | number | boolean;

/** A nested array of numbers or booleans, as `toArray()` returns and `torch.tensor()` takes. */
export type NestedArray = number | boolean | NestedArray[];

/** Where `to()` sends a tensor. */
export interface ToOptions {
  /** The result's dtype (default: unchanged). */
  dtype?: DType;
  /** The result's device, e.g. `'cuda'` or `'cpu'` (default: unchanged). */
  device?: string;
  /** Lay the result out this way (`'channelsLast'` for NHWC convolutions). */
  memoryFormat?: MemoryFormat;
  /**
   * With a CUDA `device`: queue the copy on the current stream and return without waiting for the
   * stream (PyTorch's `non_blocking`), so that the host goes on while the device works; the copy
   * is ordered before everything queued after it. Fully asynchronous from {@link Tensor.pinMemory}
   * memory. Copies to the CPU always wait, so that their values can be read at once.
   */
  nonBlocking?: boolean;
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

  /** Turns recording on or off for this tensor, as assigning `requires_grad` in PyTorch. */
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

  /**
   * This tensor with another dtype, device and/or memory layout (a copy where anything changes);
   * `this` itself when no option is given.
   */
  to(target: DType | string | ToOptions): Tensor {
    if (typeof target !== 'string' && (target === null || typeof target !== 'object' || Array.isArray(target))) {
      throw new TypeError(
        `to(): argument 'target' must be a dtype, a device or an options object, got ${target === null ? 'null' : Array.isArray(target) ? 'an array' : typeof target}`,
      );
    }
    const options: ToOptions = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    const steps: ((input: Tensor) => Tensor)[] = [];
    if (options.nonBlocking !== undefined && typeof options.nonBlocking !== 'boolean')
      throw new TypeError(`to(): option 'nonBlocking' must be a boolean, got ${typeof options.nonBlocking}`);
    const device = options.device;
    if (device !== undefined) steps.push((input) => native.toDevice(input, device, options.nonBlocking === true && device !== 'cpu'));
    if (options.dtype !== undefined) steps.push((input) => native.toDtype(input, options.dtype!));
    if (options.memoryFormat !== undefined) steps.push((input) => native.contiguous(input, options.memoryFormat!));
    return steps.reduce<Tensor>((input, step) => {
      const output = step(input);
      if (input !== this) input.dispose();
      return output;
    }, this);
  }

  /**
   * A copy of this CPU tensor in page-locked (pinned) host memory, from which copies to a CUDA
   * device with `nonBlocking` run asynchronously. Needs CUDA.
   */
  pinMemory(): Tensor {
    return native.pinMemory(this);
  }

  /** Whether this tensor lies in pinned host memory (see {@link Tensor.pinMemory}). */
  get isPinned(): boolean {
    return native.isPinned(this);
  }

  /** This tensor on the CPU. */
  cpu(): Tensor {
    return native.toDevice(this, 'cpu');
  }

  /** This tensor on a CUDA device (`'cuda'` or `'cuda:N'`). */
  cuda(device = 'cuda'): Tensor {
    return native.toDevice(this, device);
  }

  /** A copy with its own memory, laid out as `memoryFormat` (that of `this` by default). */
  clone(memoryFormat: MemoryFormat = 'preserve'): Tensor {
    return native.clone(this, memoryFormat);
  }

  /** The same data, cut off from the autograd graph. */
  detach(): Tensor {
    return native.detach(this);
  }

  /** The largest element; with `dim`, the largest values along it and their indices. */
  max(): Tensor;
  max(dim: number, options?: ReduceOptions): ValuesIndices;
  max(dim?: number, options?: ReduceOptions): Tensor | ValuesIndices {
    return dim === undefined ? reduce.max(this) : reduce.max(this, dim, options);
  }

  /** The smallest element; with `dim`, the smallest values along it and their indices. */
  min(): Tensor;
  min(dim: number, options?: ReduceOptions): ValuesIndices;
  min(dim?: number, options?: ReduceOptions): Tensor | ValuesIndices {
    return dim === undefined ? reduce.min(this) : reduce.min(this, dim, options);
  }

  // --- autograd --------------------------------------------------------------------------------

  /** Sets `requiresGrad` in place and returns `this`. */
  requiresGrad_(requiresGrad = true): this {
    this.requiresGrad = requiresGrad;
    return this;
  }

  /** Computes gradients of this tensor with respect to the graph's leaves. */
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    if (options === null || typeof options !== 'object')
      throw new TypeError(`backward(): options must be an object, got ${options === null ? 'null' : typeof options}`);
    const createGraph = options.createGraph ?? false;
    native.backward(this, gradient, options.retainGraph ?? createGraph, createGraph);
  }

  /** The accumulated gradient, or null. Each read returns a new handle onto the same memory. */
  get grad(): Tensor | null {
    return native.grad(this);
  }

  /** Replaces the accumulated gradient (null clears it, as optimizers' `zeroGrad({ setToNone })` does). */
  set grad(gradient: Tensor | null) {
    native.setGrad(this, gradient ?? undefined);
  }

  /** Whether this tensor is a leaf of the autograd graph (created by the user, not by an op). */
  get isLeaf(): boolean {
    return native.isLeaf(this);
  }

  /** Keeps `.grad` for this non-leaf tensor on the next backward pass. Returns `this`. */
  retainGrad(): this {
    native.retainGrad(this);
    return this;
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
