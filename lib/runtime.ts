// The libtorch runtime: seeding, threads, and a description of what was loaded.
import * as os from 'node:os';

import { addonFile, libtorchRecord, native } from './native';

/** Seeds the CPU generator and every CUDA device's, as `torch.manual_seed` does. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new TypeError(`manualSeed(): argument 'seed' must be a non-negative integer, got ${String(seed)}`);
  }
  native.manualSeed(seed);
}

/** Threads libtorch uses for intra-op parallelism. */
export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Sets the threads libtorch uses for intra-op parallelism. */
export function setNumThreads(threads: number): void {
  native.setNumThreads(threads);
}

/** What `unet info` prints. */
export interface RuntimeInfo {
  /** The libtorch's version, e.g. `2.13.0+cpu`. */
  libtorchVersion: string;
  /** Its folder (an unpacked libtorch, or the torch folder of a Python installation). */
  libtorchPath: string;
  /** How the install found it, e.g. `venv`, `LIBTORCH`. */
  libtorchSource: string;
  /** Why that one: what the install saw there. */
  libtorchReason: string;
  /** Whether the libtorch was built with CUDA. */
  cudaBuild: boolean;
  /** The CUDA runtime's version (`12.8`), or null without CUDA. */
  cudaRuntimeVersion: string | null;
  /** Whether a GPU can be used now. */
  cudaAvailable: boolean;
  /** How many GPUs are visible. */
  gpus: number;
  /** The torch.distributed backends this build has: 'gloo', and 'nccl' where it was built. */
  distributedBackends: string[];
  /** Why the NCCL backend was not built, or null. */
  ncclMissing: string | null;
  /** Whether the addon has its own CUDA code (built with nvcc): the fused remap CUDA augmentation then uses, and CUDA graphs. */
  cudaKernels: boolean;
  /** Why they were not built, or null. */
  cudaKernelsMissing: string | null;
  /** The threads libtorch's CPU operations use (`getNumThreads()`). */
  threads: number;
  /** The CPUs this process may use. */
  cpus: number;
  /** The CPU's model name, as the operating system reports it. */
  cpuModel: string;
  /** The instruction set of libtorch's CPU kernels (`backends.cpu.getCpuCapability()`). */
  cpuCapability: string;
  /** The path of the addon that was loaded. */
  addon: string;
  /** Node.js's version. */
  node: string;
}

function cudaVersionText(version: number): string | null {
  return version > 0 ? `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}` : null;
}

// The record says why CMake was given no nvcc; with one, only node-gyp (no rule for nvcc) leaves them out.
function whyNoCudaKernels(): string {
  if (libtorchRecord.cudaKernelsMissing) return libtorchRecord.cudaKernelsMissing;
  if (libtorchRecord.nvcc) return 'the addon was built by node-gyp, which has no rule for nvcc: build with npm install (cmake-js)';
  return 'the build recorded no reason: run npm install again';
}

/** The libtorch that was loaded, CUDA build or not, visible GPUs and threads. */
export function info(): RuntimeInfo {
  const distributedBackends = native.distBackends();
  const cudaKernels = native.cudaKernelsBuilt();
  return {
    libtorchVersion: libtorchRecord.version,
    libtorchPath: libtorchRecord.root,
    libtorchSource: libtorchRecord.source,
    libtorchReason: libtorchRecord.reason,
    cudaBuild: native.cudaBuilt(),
    cudaRuntimeVersion: cudaVersionText(native.cudaRuntimeVersion()),
    cudaAvailable: native.cudaIsAvailable(),
    gpus: native.cudaDeviceCount(),
    distributedBackends,
    ncclMissing: distributedBackends.includes('nccl')
      ? null
      : (libtorchRecord.ncclMissing ?? 'the build recorded no reason: run npm install again'),
    cudaKernels,
    cudaKernelsMissing: cudaKernels ? null : whyNoCudaKernels(),
    threads: native.getNumThreads(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() || 'unknown',
    cpuCapability: native.cpuCapability(),
    addon: addonFile,
    node: process.version,
  };
}

/**
 * `base ** exponent` exactly as Python computes it for floats (C's pow). JS's `**` can differ in
 * the last bit; code that must match PyTorch's Python-side arithmetic (bias corrections, decay
 * factors) uses this.
 */
export function pyPow(base: number, exponent: number): number {
  return native.libmPow(base, exponent);
}

/**
 * Switches and facts of libtorch's CPU back-ends, as `torch.backends` in PyTorch. With oneDNN
 * (mkldnn) off, CPU convolutions use libtorch's own kernels, whose sums do not depend on the image
 * size: a network then gives bitwise the same value for a pixel in a tile as in the whole image.
 */
export const backends = {
  /** The CPU kernels: which instruction set they dispatch to. */
  cpu: {
    /**
     * The instruction set libtorch's CPU kernels dispatch to on this CPU ('DEFAULT', 'AVX2',
     * 'AVX512', …), as `torch.backends.cpu.get_cpu_capability()`. `ATEN_CPU_CAPABILITY` caps it.
     * Kernels of different instruction sets round differently in the last bits, so a training run
     * is bitwise repeatable only on CPUs that dispatch alike (see docs/results.md).
     */
    getCpuCapability(): string {
      return native.cpuCapability();
    },
  },
  /** oneDNN (mkldnn), the library of the fastest CPU convolutions: on or off. */
  mkldnn: {
    /** Whether CPU convolutions use oneDNN (mkldnn), as `torch.backends.mkldnn.enabled`. */
    get enabled(): boolean {
      return native.mkldnnEnabled();
    },
    /** Turns oneDNN on or off for the CPU convolutions that follow. */
    set enabled(value: boolean) {
      if (typeof value !== 'boolean') throw new TypeError(`torch.backends.mkldnn.enabled must be a boolean, got ${typeof value}`);
      native.setMkldnnEnabled(value);
    },
  },
};
