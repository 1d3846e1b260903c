// CUDA devices and the caching allocator. Every function works on a CPU-only libtorch and on a
// machine without a GPU: isAvailable() is then false and the others explain why they cannot run.
import { type CudaMemoryStats, native } from './native';

/** Whether a CUDA device can be used (a CUDA libtorch and a visible NVIDIA GPU). */
export function isAvailable(): boolean {
  return native.cudaIsAvailable();
}

/** Whether this libtorch has CUDA built in, GPU or not. */
export function isBuilt(): boolean {
  return native.cudaBuilt();
}

/** Number of visible CUDA devices. */
export function deviceCount(): number {
  return native.cudaDeviceCount();
}

/** Waits until all work queued on `device` (default `'cuda:0'`) has finished. */
export function synchronize(device?: string): void {
  native.cudaSynchronize(device);
}

/** Bytes held by tensors (`allocated`) and by the caching allocator (`reserved`), with peaks. */
export function memoryStats(device?: string): CudaMemoryStats {
  return native.cudaMemoryStats(device);
}

/** Bytes currently held by tensors on `device`. */
export function memoryAllocated(device?: string): number {
  return memoryStats(device).allocated;
}

/** Bytes reserved by the caching allocator on `device`. */
export function memoryReserved(device?: string): number {
  return memoryStats(device).reserved;
}

/** The highest `memoryAllocated` since start or the last `resetPeakMemoryStats`. */
export function maxMemoryAllocated(device?: string): number {
  return memoryStats(device).peakAllocated;
}

/** Starts peak tracking afresh. */
export function resetPeakMemoryStats(device?: string): void {
  native.cudaResetPeakMemoryStats(device);
}

/** Returns cached, unused GPU memory to the driver (a no-op without CUDA). */
export function emptyCache(): void {
  native.cudaEmptyCache();
}

export type { CudaMemoryStats };
export { CUDAGraph, graph } from './cuda-graph';
/** PyTorch's `torch.cuda.OutOfMemoryError`: the same class as `torch.OutOfMemoryError`. */
export { OutOfMemoryError } from './errors';
