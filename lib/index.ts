/**
 * unet-torch: libtorch for Node.js, and the U-Net built on it.
 *
 * ```ts
 * import { torch } from 'unet-torch';
 * const x = torch.randn([2, 3]);
 * ```
 * @packageDocumentation
 */
import * as creation from './creation';
import * as cuda from './cuda';
import * as memory from './memory';
import * as runtime from './runtime';

export { Tensor } from './tensor';
export type { NestedArray, TensorLike, ToOptions } from './tensor';
export type { DType, TypedArrayOf, AnyTypedArray } from './dtype';
export type { CreationOptions } from './creation';
export type { MemorySnapshot } from './memory';
export type { CudaMemoryStats } from './cuda';
export type { RuntimeInfo } from './runtime';
export { AddonLoadError } from './native';

/** The torch API, shaped like PyTorch's `torch` module with camelCase names. */
export const torch = {
  ...creation,
  tidy: memory.tidy,
  keep: memory.keep,
  dispose: memory.dispose,
  memory: memory.memory,
  manualSeed: runtime.manualSeed,
  getNumThreads: runtime.getNumThreads,
  setNumThreads: runtime.setNumThreads,
  info: runtime.info,
  cuda,
};
