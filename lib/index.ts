/**
 * unet-torch: libtorch for Node.js, and the U-Net built on it.
 *
 * ```ts
 * import { torch } from 'unet-torch';
 * const x = torch.randn([2, 3]);
 * ```
 * @packageDocumentation
 */
import * as amp from './amp';
import * as autograd from './autograd';
import * as cpu from './cpu';
import * as creation from './creation';
import * as cuda from './cuda';
import * as distributed from './distributed';
import { OutOfMemoryError } from './errors';
import * as memory from './memory';
import './methods';
import * as npy from './io/npy';
import * as safetensors from './io/safetensors';
import { loadTorch, saveTorch } from './io/torch-file';
import * as nn from './nn';
import { ScriptModule } from './nn/script-module';
import * as optim from './optim';
import * as compare from './ops/compare';
import * as indexing from './ops/indexing';
import * as join from './ops/join';
import * as linalg from './ops/linalg';
import * as math from './ops/math';
import * as reduce from './ops/reduce';
import * as shape from './ops/shape';
import { pick } from './pick';
import * as runtime from './runtime';

export { Tensor } from './tensor';
export type { NestedArray, TensorLike, ToOptions } from './tensor';
export type { DType, TypedArrayOf, AnyTypedArray } from './dtype';
export type { CreationOptions, Shape } from './creation';
export type { IntOrPair } from './ops/options';
export type { ReadImageOptions } from './io/png';
export { DEFAULT_MAX_PIXELS, getMaxImagePixels, ImageTooLargeError, setMaxImagePixels } from './io/limits';
export * as amp from './amp';
export * as cpu from './cpu';
export * as cuda from './cuda';
export * as distributed from './distributed';
export type {
  Backend as DistributedBackend,
  BroadcastOptions,
  GroupOptions,
  InitProcessGroupOptions,
  ProcessGroup,
  ReduceOp,
  ReduceOptions as DistributedReduceOptions,
  Rendezvous,
  RendezvousOptions,
} from './distributed';
export type { MemorySnapshot } from './memory';
export type { CudaMemoryStats } from './cuda';
export type { CpuCacheStats } from './cpu';
export type { RuntimeInfo } from './runtime';
export type { GradOptions } from './autograd';
export type { AllcloseOptions } from './ops/compare';
export type { IndexItem, Slice } from './ops/indexing';
export type { RoundingMode } from './ops/math';
export type { ReduceOptions, SumOptions, ValuesIndices, VarianceOptions } from './ops/reduce';
export type { MemoryFormat } from './ops/shape';
export type * from './nn/functional';
export * as nn from './nn';
export * as optim from './optim';
export * as unet from './unet';
export { UNet, createUNet } from './unet';
export { weightMap, weightedCrossEntropy } from './weightmap';
export type { BorderTerm, WeightMapOptions, WeightMapPreset, WeightedCrossEntropyOptions, WeightedReduction } from './weightmap';
export * as weightmap from './weightmap';
export * as augment from './augment';
export { PngError, readImagePng, readLabelPng, writeColourPng, writeGrayPng, writeLabelPng, writePicturePng } from './io/png';
export { imagePicture, labelColour, labelPicture, panel } from './io/picture';
export type { Picture } from './io/picture';
export * as data from './data';
export { loadFolder, prepareSamples, splitSamples, syntheticCells } from './data';
export type { LabelKind, LoadFolderOptions, Sample, SyntheticOptions, SyntheticSample, TrainingSample } from './data';
export * as training from './train';
export { runTraining, train } from './train';
export { loadTrainedModel } from './unet/model-files';
export type { TrainedModel } from './unet/model-files';
export { loadPretrained } from './unet/pretrained';
export type { TrainEvent, TrainOptions, TrainResult, ValidationScores } from './train';
export * as labels from './labels';
export * as onnx from './onnx';
export { exportOnnx } from './onnx';
export type { ExportOnnxOptions, TileRule } from './onnx';
export * as predict from './predict';
export { labelsFromProbabilities, predictLogits, predictProbabilities } from './predict';
export type { OutputKind, PostprocessOptions, Precision, PredictOptions } from './predict';
export * as metrics from './metrics';
export { readImageTiff, readLabelTiff, TiffError } from './io/tiff';
export type { UNetOptions, PresetName } from './unet';
export { GradScaler, autocast } from './amp';
export type { AutocastOptions, GradScalerOptions } from './amp';
export { TorchFileError } from './io/torch-file';
export type { TorchValue } from './io/torch-file';
export { SafetensorsError } from './io/safetensors';
export { NpyError } from './io/npy';
export { FileWriteError } from './io/atomic';
export { CheckpointError } from './train/checkpoint';
export { AddonLoadError } from './native';
export { OutOfMemoryError } from './errors';

/** The torch API, shaped like PyTorch's `torch` module with camelCase names. */
export const torch = {
  ...creation,
  ...math,
  ...compare,
  ...reduce,
  ...linalg,
  ...shape,
  ...indexing,
  ...join,
  /** PyTorch's `torch.nn`: modules, `init`, `functional`, `utils`. */
  nn,
  /** PyTorch's `torch.optim`: optimizers and `lrScheduler`. */
  optim,
  /** Mixed precision: `autocast` and `GradScaler`. */
  amp,
  /** `torch.save`: a file Python's `torch.load(weights_only=True)` reads. */
  save: saveTorch,
  /** `torch.load` of a file written by Python's `torch.save` (state dicts and checkpoints). */
  load: loadTorch,
  /** TorchScript: `torch.jit.load(file, { device })` gives a ScriptModule to run and fine-tune. */
  jit: { load: ScriptModule.load },
  ...pick(safetensors, 'saveSafetensors', 'loadSafetensors'),
  ...pick(npy, 'saveNpy', 'loadNpy'),
  /** `torch.autograd.grad`: gradients of outputs with respect to inputs, without touching `.grad`. */
  autograd: { ...pick(autograd, 'grad') },
  ...pick(autograd, 'noGrad', 'enableGrad', 'isGradEnabled', 'inferenceMode', 'isInferenceMode'),
  ...pick(memory, 'tidy', 'keep', 'dispose', 'memory'),
  ...pick(runtime, 'manualSeed', 'getNumThreads', 'setNumThreads', 'backends', 'info'),
  /** The cache of freed CPU blocks: `cacheStats()`, `emptyCache()`. */
  cpu,
  /** PyTorch's `torch.cuda`: `isAvailable()`, `deviceCount()`, `synchronize()`, the memory counters, `emptyCache()`, `CUDAGraph`. */
  cuda,
  /** torch.distributed: `initProcessGroup`, the collectives, `destroyProcessGroup` (Gloo and NCCL, over c10d). */
  distributed,
  /** Thrown when an allocation fails (CUDA out of memory, or a CPU allocation refused). */
  OutOfMemoryError,
};
