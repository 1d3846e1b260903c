// Loads the addon, after checking that the libtorch it was built against is still where the
// build recorded it. Everything else reaches the addon through the typed `native` object.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { DType } from './dtype';
import type { OutOfMemoryError } from './errors';
import { packageRoot } from './package-root';
import type { MemoryFormat } from './ops/shape';
import type { Tensor } from './tensor';

/** What `npm install` recorded about the libtorch the addon was built against. */
export interface LibtorchRecord {
  root: string;
  lib: string;
  version: string;
  cuda: boolean;
  /** Why the NCCL backend was not built (null when it was); absent in records of older builds. */
  ncclMissing?: string | null;
  /** The nvcc that built the addon's CUDA kernels, and for which GPU architectures (null without). */
  nvcc?: string | null;
  cudaArchitectures?: string | null;
  /** Why the CUDA kernels were not built (null when CMake was given an nvcc). */
  cudaKernelsMissing?: string | null;
  source: 'LIBTORCH' | 'TORCH_PYTHON' | 'python3' | 'venv';
  reason: string;
  python: string | null;
}

/** Thrown when the addon cannot be loaded; the message names the fix. */
export class AddonLoadError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
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
    throw new AddonLoadError(`the addon was built against libtorch ${record.version}, but ${record.root} now holds ${version}. ${rebuild}`);
  }
  const requested = process.env.LIBTORCH;
  if (requested && path.resolve(requested) !== record.root) {
    throw new AddonLoadError(`LIBTORCH=${requested}, but the addon was built against ${record.root}. ${rebuild}`);
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
type OptT = T | undefined;
type Dims = number | number[] | undefined;

/** What `torch.memory()` counts: the tensors this process holds through the addon. */
export interface MemorySnapshot {
  /** Tensors created and not yet disposed. */
  liveTensors: number;
  /** The most that were live at once since the process started. */
  peakTensors: number;
  /** How many `tidy()` scopes are open. */
  scopeDepth: number;
  /** Per device (`'cpu'`, `'cuda:0'`, …): its live tensors and the bytes of their storage. */
  devices: Record<
    string,
    {
      /** Live tensors there. */
      tensors: number;
      /** The bytes of their storage. */
      bytes: number;
    }
  >;
}

/** The CPU cache of freed blocks (`torch.cpu.cacheStats()`). */
export interface CpuCacheStats {
  /** Bytes of freed blocks kept for reuse. */
  bytes: number;
  /** How many blocks those are. */
  blocks: number;
  /** The most the cache keeps, in bytes. */
  limit: number;
}

/** One GPU's memory as libtorch's caching allocator counts it (`torch.cuda.memoryStats()`), in bytes. */
export interface CudaMemoryStats {
  /** Held by tensors now. */
  allocated: number;
  /** The most `allocated` since start or the last `resetPeakMemoryStats()`. */
  peakAllocated: number;
  /** Held by the caching allocator now: tensors and cached free blocks. */
  reserved: number;
  /** The most `reserved` since start or the last `resetPeakMemoryStats()`. */
  peakReserved: number;
}

/** The addon's exports. Arguments are type-checked natively as well; see native/bind.h. */
export interface NativeAddon {
  setTensorClass(tensorClass: typeof Tensor, handleKey: symbol, constructToken: symbol): void;
  setOutOfMemoryErrorClass(errorClass: typeof OutOfMemoryError): void;
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
  cpuCacheStats(): CpuCacheStats;
  cpuEmptyCache(): void;
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
  cudaBuilt(): boolean;
  cudaRuntimeVersion(): number;
  getNumThreads(): number;
  setNumThreads(threads: number): void;
  manualSeed(seed: number): void;
  cpuCapability(): string;
  mkldnnEnabled(): boolean;
  setMkldnnEnabled(enabled: boolean): void;
  libmPow(base: number, exponent: number): number;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device: OptDevice): void;
  cudaEmptyCache(): void;
  cudaResetPeakMemoryStats(device: OptDevice): void;
  cudaMemoryStats(device: OptDevice): CudaMemoryStats;
  // operations (native/ops_math.cc)
  add(input: T, other: Operand, alpha: number): T;
  add_(input: T, other: Operand, alpha: number): void;
  sub(input: T, other: Operand, alpha: number): T;
  sub_(input: T, other: Operand, alpha: number): void;
  mul(input: T, other: Operand): T;
  mul_(input: T, other: Operand): void;
  div(input: T, other: Operand, roundingMode: string | undefined): T;
  div_(input: T, other: Operand, roundingMode: string | undefined): void;
  pow(input: T, exponent: Operand): T;
  powScalarBase(base: number, exponent: T): T;
  minimum(input: T, other: Operand): T;
  maximum(input: T, other: Operand): T;
  neg(input: T): T;
  sqrt(input: T): T;
  rsqrt(input: T): T;
  exp(input: T): T;
  log(input: T): T;
  log1p(input: T): T;
  abs(input: T): T;
  sign(input: T): T;
  floor(input: T): T;
  ceil(input: T): T;
  round(input: T): T;
  neg_(input: T): void;
  sqrt_(input: T): void;
  exp_(input: T): void;
  zero_(input: T): void;
  clamp(input: T, min: number | undefined, max: number | undefined): T;
  clamp_(input: T, min: number | undefined, max: number | undefined): void;
  fill_(input: T, value: number | boolean): void;
  copy_(input: T, source: T): void;
  lerp(input: T, end: T, weight: Operand): T;
  eq(input: T, other: Operand): T;
  ne(input: T, other: Operand): T;
  lt(input: T, other: Operand): T;
  le(input: T, other: Operand): T;
  gt(input: T, other: Operand): T;
  ge(input: T, other: Operand): T;
  logicalAnd(input: T, other: Operand): T;
  logicalOr(input: T, other: Operand): T;
  logicalNot(input: T): T;
  isnan(input: T): T;
  isfinite(input: T): T;
  where(condition: T, input: Operand, other: Operand): T;
  equal(input: T, other: T): boolean;
  allclose(input: T, other: T, rtol: number, atol: number, equalNan: boolean): boolean;
  sum(input: T, dim: Dims, keepdim: boolean, dtype: OptDType): T;
  mean(input: T, dim: Dims, keepdim: boolean, dtype: OptDType): T;
  prod(input: T, dim: number | undefined, keepdim: boolean): T;
  maxAll(input: T): T;
  minAll(input: T): T;
  maxDim(input: T, dim: number, keepdim: boolean): [T, T];
  minDim(input: T, dim: number, keepdim: boolean): [T, T];
  argmax(input: T, dim: number | undefined, keepdim: boolean): T;
  argmin(input: T, dim: number | undefined, keepdim: boolean): T;
  std(input: T, dim: Dims, correction: number, keepdim: boolean): T;
  var(input: T, dim: Dims, correction: number, keepdim: boolean): T;
  norm(input: T, p: number, dim: Dims, keepdim: boolean): T;
  all(input: T, dim: number | undefined, keepdim: boolean): T;
  any(input: T, dim: number | undefined, keepdim: boolean): T;
  cumsum(input: T, dim: number): T;
  matmul(input: T, other: T): T;
  mm(input: T, mat2: T): T;
  bmm(input: T, mat2: T): T;
  outer(input: T, vec2: T): T;
  erf(input: T): T;
  erfinv_(input: T): void;
  reciprocal(input: T): T;
  uniform_(input: T, from: number, to: number): void;
  normal_(input: T, mean: number, std: number): void;
  lerp_(input: T, end: T, weight: Operand): void;
  addcmul(input: T, tensor1: T, tensor2: T, value: number): T;
  addcmul_(input: T, tensor1: T, tensor2: T, value: number): void;
  addcdiv_(input: T, tensor1: T, tensor2: T, value: number): void;
  vectorNorm(input: T, ord: number): T;
  linalgQr(input: T): [T, T];
  diag(input: T, diagonal: number): T;
  // conversions, shape, indexing, joining (native/ops_shape.cc)
  toDtype(input: T, dtype: DType): T;
  toDevice(input: T, device: string, nonBlocking?: boolean): T;
  pinMemory(input: T): T;
  isPinned(input: T): boolean;
  clone(input: T, memoryFormat: MemoryFormat | undefined): T;
  detach(input: T): T;
  alias(input: T): T;
  asStrided(input: T, size: number[], stride: number[], storageOffset: number): T;
  contiguous(input: T, memoryFormat: MemoryFormat | undefined): T;
  isContiguous(input: T, memoryFormat: MemoryFormat | undefined): boolean;
  stride(input: T): number[];
  reshape(input: T, shape: number[]): T;
  view(input: T, shape: number[]): T;
  permute(input: T, dims: number[]): T;
  transpose(input: T, dim0: number, dim1: number): T;
  squeeze(input: T, dim: Dims): T;
  unsqueeze(input: T, dim: number): T;
  flatten(input: T, startDim: number, endDim: number): T;
  expand(input: T, size: number[]): T;
  repeat(input: T, repeats: number[]): T;
  flip(input: T, dims: number | number[]): T;
  roll(input: T, shifts: number | number[], dims: number | number[]): T;
  narrow(input: T, dim: number, start: number, length: number): T;
  select(input: T, dim: number, index: number): T;
  slice(input: T, dim: number, start: number | undefined, end: number | undefined, step: number): T;
  index(input: T, indices: (T | null)[]): T;
  indexPut_(input: T, indices: (T | null)[], values: Operand, accumulate: boolean): void;
  indexSelect(input: T, dim: number, index: T): T;
  gather(input: T, dim: number, index: T): T;
  scatter(input: T, dim: number, index: T, src: Operand): T;
  maskedFill(input: T, mask: T, value: Operand): T;
  maskedSelect(input: T, mask: T): T;
  cat(tensors: T[], dim: number): T;
  stack(tensors: T[], dim: number): T;
  split(input: T, splitSize: number, dim: number): T[];
  splitWithSizes(input: T, splitSizes: number[], dim: number): T[];
  chunk(input: T, chunks: number, dim: number): T[];
  pad(input: T, pad: number[], mode: string, value: number | undefined): T;
  // nn functional (native/ops_nn.cc)
  linear(input: T, weight: T, bias: OptT): T;
  conv2d(input: T, weight: T, bias: OptT, stride: number[], padding: number[], dilation: number[], groups: number): T;
  conv2dPadMode(input: T, weight: T, bias: OptT, stride: number[], padding: string, dilation: number[], groups: number): T;
  convTranspose2d(
    input: T,
    weight: T,
    bias: OptT,
    stride: number[],
    padding: number[],
    outputPadding: number[],
    groups: number,
    dilation: number[],
  ): T;
  maxPool2d(input: T, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): T;
  maxPool2dWithIndices(input: T, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): [T, T];
  avgPool2d(
    input: T,
    kernel: number[],
    stride: number[],
    padding: number[],
    ceilMode: boolean,
    countIncludePad: boolean,
    divisorOverride: number | undefined,
  ): T;
  adaptiveAvgPool2d(input: T, outputSize: number[]): T;
  relu(input: T): T;
  relu_(input: T): void;
  leakyRelu(input: T, negativeSlope: number): T;
  elu(input: T, alpha: number): T;
  gelu(input: T, approximate: string): T;
  sigmoid(input: T): T;
  tanh(input: T): T;
  softmax(input: T, dim: number, dtype: OptDType): T;
  logSoftmax(input: T, dim: number, dtype: OptDType): T;
  dropout(input: T, p: number, training: boolean): T;
  dropout2d(input: T, p: number, training: boolean): T;
  batchNorm(input: T, runningMean: OptT, runningVar: OptT, weight: OptT, bias: OptT, training: boolean, momentum: number, eps: number): T;
  instanceNorm(
    input: T,
    runningMean: OptT,
    runningVar: OptT,
    weight: OptT,
    bias: OptT,
    useInputStats: boolean,
    momentum: number,
    eps: number,
  ): T;
  groupNorm(input: T, numGroups: number, weight: OptT, bias: OptT, eps: number): T;
  layerNorm(input: T, normalizedShape: number[], weight: OptT, bias: OptT, eps: number): T;
  upsample(input: T, mode: string, outputSize: number[] | undefined, scaleFactors: number[] | undefined, alignCorners: boolean): T;
  gridSample(input: T, grid: T, mode: number, paddingMode: number, alignCorners: boolean): T;
  affineGrid(theta: T, size: number[], alignCorners: boolean): T;
  oneHot(input: T, numClasses: number): T;
  crossEntropy(input: T, target: T, weight: OptT, reduction: number, ignoreIndex: number, labelSmoothing: number): T;
  nllLoss(input: T, target: T, weight: OptT, reduction: number, ignoreIndex: number): T;
  binaryCrossEntropyWithLogits(input: T, target: T, weight: OptT, posWeight: OptT, reduction: number): T;
  mseLoss(input: T, target: T, reduction: number): T;
  l1Loss(input: T, target: T, reduction: number): T;
  // autograd (native/autograd.cc)
  backward(input: T, gradient: OptT, retainGraph: boolean, createGraph: boolean): void;
  grad(input: T): T | null;
  setGrad(input: T, grad: OptT): void;
  setData(input: T, data: T): void;
  isLeaf(input: T): boolean;
  retainGrad(input: T): void;
  autogradGrad(
    outputs: T[],
    inputs: T[],
    gradOutputs: T[] | undefined,
    retainGraph: boolean,
    createGraph: boolean,
    allowUnused: boolean,
  ): (T | null)[];
  isGradEnabled(): boolean;
  setGradEnabled(enabled: boolean): void;
  enterInferenceMode(): void;
  exitInferenceMode(): void;
  isInferenceMode(): boolean;
  // serialization (native/serialize.cc)
  pickleSave(value: unknown, write: (chunk: Uint8Array) => void): void;
  // TorchScript modules (native/jit.cc); a module is an opaque handle
  jitLoad(file: string, device: string): unknown;
  jitNamedParameters(module: unknown): [string[], T[]];
  jitNamedBuffers(module: unknown): [string[], T[]];
  jitForward(module: unknown, inputs: T[]): T | T[];
  jitTrain(module: unknown, mode: boolean): void;
  jitIsTraining(module: unknown): boolean;
  jitSave(module: unknown, file: string): void;
  jitDispose(module: unknown): void;
  // torch.distributed (native/distributed.cc); a process group and a reducer are opaque handles
  distInitProcessGroup(
    backend: string,
    host: string,
    port: number,
    rank: number,
    worldSize: number,
    timeoutMs: number,
    agentStore: boolean,
  ): Promise<unknown>;
  /** The backends this build constructs: 'gloo', and 'nccl' in builds against a CUDA libtorch with NCCL. */
  distBackends(): string[];
  distRank(group: unknown): number;
  distWorldSize(group: unknown): number;
  distDestroy(group: unknown): void;
  distBarrier(group: unknown): Promise<void>;
  distAllReduce(group: unknown, tensors: T[], op: string): Promise<void>;
  distBroadcast(group: unknown, tensors: T[], src: number): Promise<void>;
  distAllGather(group: unknown, outputs: T[], input: T): Promise<void>;
  distReduceScatter(group: unknown, output: T, inputs: T[], op: string): Promise<void>;
  distBroadcastCoalesced(group: unknown, tensors: T[], bufferBytes: number, src: number): void;
  distAllReduceSumWithGrad(group: unknown, tensor: T): T;
  ddpReducer(group: unknown, parameters: T[], bucketBytes: number, firstBucketBytes: number, findUnusedParameters: boolean): unknown;
  ddpVerifyParameters(group: unknown, parameters: T[]): void;
  ddpPrepareForForward(reducer: unknown): void;
  ddpRebuildBuckets(reducer: unknown): boolean;
  ddpPrepareForBackward(reducer: unknown, outputs: T[]): void;
  ddpRelease(reducer: unknown): void;
  // weight map (native/weightmap.cc)
  weightMap(labels: T, w0: number, sigma: number, radius: number, classWeights: number[], falk: boolean): T;
  connectedComponents(mask: T, connectivity: number): T;
  composeField(controlPoints: T | undefined, affine: T, height: number, width: number): T;
  remap(inputs: T[], field: T, modes: string[]): T[];
  cudaKernelsBuilt(): boolean;
  remapCuda(inputs: T[], field: T, modes: string[]): T[];
  seededNormal(seed: number, size: number[]): T;
  // CUDA graphs (native/cuda_graph.cc)
  cudaGraphNew(): unknown;
  cudaGraphCaptureBegin(graph: unknown, device: string): void;
  cudaGraphCaptureEnd(graph: unknown): void;
  cudaGraphReplay(graph: unknown): void;
  cudaGraphReset(graph: unknown): void;
  // mixed precision (native/amp.cc)
  autocastEnabled(deviceType: string): boolean;
  autocastDtype(deviceType: string): DType;
  setAutocast(deviceType: string, enabled: boolean, dtype: DType): void;
  autocastCacheEnabled(): boolean;
  setAutocastCacheEnabled(enabled: boolean): void;
  autocastIncrementNesting(): number;
  autocastDecrementNesting(): number;
  clearAutocastCache(): void;
  ampUnscale_(grads: T[], foundInf: T, invScale: T): void;
  ampUpdateScale_(scale: T, growthTracker: T, foundInf: T, growthFactor: number, backoffFactor: number, growthInterval: number): void;
}

const loaded = loadAddon();

/** The addon. */
export const native: NativeAddon = loaded.addon;
/** The libtorch the addon was built against, as recorded by `npm install`. */
export const libtorchRecord: LibtorchRecord = loaded.record;
/** The addon file that was loaded. */
export const addonFile: string = loaded.file;
