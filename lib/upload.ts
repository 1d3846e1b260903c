// Host data on its way to a device without the host waiting for the device. A plain copy to CUDA
// waits until the stream has finished all it had queued (the copy synchronises), which in
// training waits for the step's backward pass before the next batch's tiles can even be queued.
import type { Tensor } from './tensor';

/**
 * `host` (a CPU tensor) on `device`: for CUDA, copied from pinned memory without waiting, ordered
 * on the current stream before everything queued after it; elsewhere copied as `to()` copies.
 * `host` itself for the CPU. The caller still owns and frees `host`.
 */
export function upload(host: Tensor, device: string): Tensor {
  if (device === 'cpu') return host;
  if (!device.startsWith('cuda')) return host.to(device);
  // The pinned copy may be freed at once: libtorch keeps its memory until the copy has run.
  const pinned = host.pinMemory();
  try {
    return pinned.to({ device, nonBlocking: true });
  } finally {
    pinned.dispose();
  }
}
