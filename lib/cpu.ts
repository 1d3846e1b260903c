// The cache of freed CPU blocks (native/cpu_cache.cc): storages of 1 MiB and more are kept when
// freed and handed out again, so that a loop that allocates the same large tensors each step
// does not pay for fresh pages each time.
import { type CpuCacheStats, native } from './native';

/** What the CPU block cache holds now: freed blocks kept for reuse, their bytes, and its cap (a quarter of the physical memory). */
export function cacheStats(): CpuCacheStats {
  return native.cpuCacheStats();
}

/** Returns the cached CPU blocks to the system. Tensors in use are not touched. */
export function emptyCache(): void {
  native.cpuEmptyCache();
}

export type { CpuCacheStats };
