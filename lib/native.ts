// Loads the addon, after checking that the libtorch it was built against is still where the
// build recorded it. Everything else reaches the addon through the typed `native` object.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { DType } from './dtype';
import type { Tensor } from './tensor';

/** The folder holding package.json: one level above both lib/ (tests) and dist/ (the build). */
export const packageRoot = path.resolve(__dirname, '..');

/** What `npm install` recorded about the libtorch the addon was built against. */
export interface LibtorchRecord {
  root: string;
  lib: string;
  version: string;
  cuda: boolean;
  source: 'LIBTORCH' | 'TORCH_PYTHON' | 'python3' | 'venv';
  reason: string;
  python: string | null;
}

/** Thrown when the addon cannot be loaded; the message names the fix. */
export class AddonLoadError extends Error {
  override name = 'AddonLoadError';
}

const libtorchScript = require(path.join(packageRoot, 'scripts', 'libtorch.js')) as {
  readVersion(root: string): string;
};

/** The build records its libtorch in build/libtorch.json, beside build/Release/unet_torch.node. */
function readRecord(addon: string): LibtorchRecord {
  const recordFile = path.join(path.dirname(addon), '..', 'libtorch.json');
  let text: string;
  try {
    text = fs.readFileSync(recordFile, 'utf8');
  } catch {
    throw new AddonLoadError(
      `unet-torch is not built: ${recordFile} is missing. Run \`npm install\` (or \`npm rebuild unet-torch\`) in ${packageRoot}.`,
    );
  }
  return JSON.parse(text) as LibtorchRecord;
}

function checkLibtorch(record: LibtorchRecord): void {
  const rebuild = 'Run `npm rebuild unet-torch` (or `npm install` in the project) to build against the libtorch you have now.';
  if (!fs.existsSync(path.join(record.lib, 'libtorch_cpu.so'))) {
    throw new AddonLoadError(
      `the addon was built against libtorch ${record.version} at ${record.root}, which is no longer there (moved or deleted). ${rebuild}`,
    );
  }
  const version = libtorchScript.readVersion(record.root);
  if (version !== record.version) {
    throw new AddonLoadError(
      `the addon was built against libtorch ${record.version}, but ${record.root} now holds ${version}. ${rebuild}`,
    );
  }
  const requested = process.env.LIBTORCH;
  if (requested && path.resolve(requested) !== record.root) {
    throw new AddonLoadError(
      `LIBTORCH=${requested}, but the addon was built against ${record.root}. ${rebuild}`,
    );
  }
}

function loadAddon(): { addon: NativeAddon; record: LibtorchRecord; file: string } {
  const file = process.env.UNET_TORCH_ADDON ?? path.join(packageRoot, 'build', 'Release', 'unet_torch.node');
  const record = readRecord(file);
  checkLibtorch(record);
  try {
    return { addon: require(file) as NativeAddon, record, file };
  } catch (error) {
    throw new AddonLoadError(
      `could not load ${file} against libtorch ${record.version} at ${record.root}: ${(error as Error).message}. ` +
        'Run `npm rebuild unet-torch`.',
    );
  }
}

type T = Tensor;
type Operand = T | number | boolean;
type OptDType = DType | undefined;
type OptDevice = string | undefined;

export interface MemorySnapshot {
  liveTensors: number;
  peakTensors: number;
  scopeDepth: number;
  devices: Record<string, { tensors: number; bytes: number }>;
}

export interface CudaMemoryStats {
  allocated: number;
  peakAllocated: number;
  reserved: number;
  peakReserved: number;
}

/** The addon's exports. Arguments are type-checked natively as well; see native/bind.h. */
export interface NativeAddon {
  setTensorClass(tensorClass: typeof Tensor, handleKey: symbol, constructToken: symbol): void;
  // tensor attributes and memory
  shape(tensor: T): number[];
  dtype(tensor: T): DType;
  device(tensor: T): string;
  requiresGrad(tensor: T): boolean;
  setRequiresGrad(tensor: T, requiresGrad: boolean): void;
  isDisposed(tensor: T): boolean;
  dispose(tensor: T): void;
  keep(tensor: T): void;
  beginScope(): void;
  endScope(escaping: T[]): void;
  memory(): MemorySnapshot;
  // creation
  fromTypedArray(data: ArrayBufferView, shape: number[]): T;
  fromBytes(data: ArrayBufferView, shape: number[], dtype: DType): T;
  zeros(size: number[], dtype: OptDType, device: OptDevice): T;
  ones(size: number[], dtype: OptDType, device: OptDevice): T;
  empty(size: number[], dtype: OptDType, device: OptDevice): T;
  full(size: number[], fillValue: number | boolean, dtype: OptDType, device: OptDevice): T;
  arange(start: number, end: number, step: number, dtype: OptDType, device: OptDevice): T;
  linspace(start: number, end: number, steps: number, dtype: OptDType, device: OptDevice): T;
  eye(n: number, m: number | undefined, dtype: OptDType, device: OptDevice): T;
  rand(size: number[], dtype: OptDType, device: OptDevice): T;
  randn(size: number[], dtype: OptDType, device: OptDevice): T;
  randint(low: number, high: number, size: number[], dtype: OptDType, device: OptDevice): T;
  // readback
  toArrayBuffer(tensor: T): ArrayBuffer;
  readAsync(tensor: T): Promise<ArrayBuffer>;
  toBytes(tensor: T): ArrayBuffer;
  item(tensor: T): number | boolean;
  // runtime
  libtorchVersion(): string;
  cudaBuilt(): boolean;
  cudaRuntimeVersion(): number;
  getNumThreads(): number;
  setNumThreads(threads: number): void;
  manualSeed(seed: number): void;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device: OptDevice): void;
  cudaEmptyCache(): void;
  cudaResetPeakMemoryStats(device: OptDevice): void;
  cudaMemoryStats(device: OptDevice): CudaMemoryStats;
  // operations
  toDtype(input: T, dtype: DType): T;
  toDevice(input: T, device: string): T;
  clone(input: T): T;
  detach(input: T): T;
  add(input: T, other: Operand, alpha: number): T;
  add_(input: T, other: Operand, alpha: number): void;
  sub(input: T, other: Operand, alpha: number): T;
  mul(input: T, other: Operand): T;
  mul_(input: T, other: Operand): void;
  div(input: T, other: Operand, roundingMode: 'trunc' | 'floor' | undefined): T;
  neg(input: T): T;
  matmul(input: T, other: T): T;
  sum(input: T, dim: number | number[] | undefined, keepdim: boolean, dtype: OptDType): T;
  mean(input: T, dim: number | number[] | undefined, keepdim: boolean, dtype: OptDType): T;
  reshape(input: T, shape: number[]): T;
  backward(input: T, gradient: T | undefined, retainGraph: boolean, createGraph: boolean): void;
  grad(input: T): T | null;
}

const loaded = loadAddon();

/** The addon. */
export const native: NativeAddon = loaded.addon;
/** The libtorch the addon was built against, as recorded by `npm install`. */
export const libtorchRecord: LibtorchRecord = loaded.record;
/** The addon file that was loaded. */
export const addonFile: string = loaded.file;
