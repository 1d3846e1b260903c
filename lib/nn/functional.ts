/**
 * torch.nn.functional: convolution, pooling, activations, normalisation, resampling and losses,
 * with PyTorch's defaults. Keyword arguments are an options object; unknown options and invalid
 * values throw a TypeError or RangeError naming the option before anything runs.
 * @module
 */
import type { DType } from '../dtype';
import { native } from '../native';
import { checkOptions, type IntOrPair, inRange, intPair, oneOf, type Reduction, reductionCode } from '../ops/options';
import { Tensor } from '../tensor';

export { pad, type PadMode, type PadOptions } from '../ops/join';
export type { Reduction } from '../ops/options';

/**
 * The options of a convolution called as PyTorch users call it, `conv2d(x, w, b, { padding: 1 })`
 * (bias third, positionally) or with the bias among the options: both give the same options.
 */
function withPositionalBias<O extends { bias?: Tensor | null }>(
  fn: string,
  biasOrOptions: Tensor | null | O | undefined,
  options: O | undefined,
): O | undefined {
  if (biasOrOptions === undefined || (biasOrOptions !== null && !(biasOrOptions instanceof Tensor))) {
    if (options !== undefined)
      throw new TypeError(
        `${fn}(): the third argument is the options; a fourth (${typeof options}) is only allowed after a positional bias (a Tensor or null)`,
      );
    return biasOrOptions as O | undefined;
  }
  if (options !== undefined && options !== null && typeof options === 'object' && 'bias' in options) {
    throw new TypeError(`${fn}(): the bias is given twice, as the third argument and as option 'bias'`);
  }
  return { ...(options ?? {}), bias: biasOrOptions } as O;
}

// --- linear and convolution -------------------------------------------------------------------------

/** `input · weightᵀ + bias`. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return native.linear(input, weight, bias ?? undefined);
}

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Added to each output channel, shape (out); none by default. */
  bias?: Tensor | null;
  /** The kernel's step, one or [height, width] (default 1). */
  stride?: IntOrPair;
  /** Zero padding per side, or `'valid'` (none) or `'same'` (output size = input size, stride 1). */
  padding?: IntOrPair | 'valid' | 'same';
  /** The spacing of the kernel's elements (default 1). */
  dilation?: IntOrPair;
  /** Channel groups convolved separately; the input's channels must divide by it (default 1). */
  groups?: number;
}
/**
 * 2-d convolution of `input` (N, C, H, W) with `weight` (out, C / groups, kH, kW); the bias is the
 * third argument, as in PyTorch (`conv2d(x, w, b, { padding: 1 })`), or option `bias`.
 */
export function conv2d(input: Tensor, weight: Tensor, biasOrOptions?: Tensor | null | Conv2dOptions, maybeOptions?: Conv2dOptions): Tensor {
  const options = withPositionalBias('conv2d', biasOrOptions, maybeOptions);
  const {
    bias,
    stride = 1,
    padding = 0,
    dilation = 1,
    groups = 1,
  } = checkOptions('conv2d', options, ['bias', 'stride', 'padding', 'dilation', 'groups']);
  const strides = intPair('conv2d', 'stride', stride, 1);
  const dilations = intPair('conv2d', 'dilation', dilation, 1);
  intPair('conv2d', 'groups', groups, 1, 1);
  if (typeof padding === 'string') {
    return native.conv2dPadMode(
      input,
      weight,
      bias ?? undefined,
      strides,
      oneOf('conv2d', 'padding', padding, ['valid', 'same']),
      dilations,
      groups,
    );
  }
  return native.conv2d(input, weight, bias ?? undefined, strides, intPair('conv2d', 'padding', padding, 0), dilations, groups);
}

/** Options of `convTranspose2d`. */
export interface ConvTranspose2dOptions {
  /** Added to each output channel, shape (out); none by default. */
  bias?: Tensor | null;
  /** The step, one or [height, width]: the output is about stride times the input (default 1). */
  stride?: IntOrPair;
  /** Taken off each side of the output, as PyTorch's `padding` (default 0). */
  padding?: IntOrPair;
  /** Added to one side of the output, to reach a size a stride above 1 leaves open (default 0). */
  outputPadding?: IntOrPair;
  /** Channel groups convolved separately (default 1). */
  groups?: number;
  /** The spacing of the kernel's elements (default 1). */
  dilation?: IntOrPair;
}
/** 2-d transposed convolution ("up-convolution") with `weight` (C, out / groups, kH, kW). */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  biasOrOptions?: Tensor | null | ConvTranspose2dOptions,
  maybeOptions?: ConvTranspose2dOptions,
): Tensor {
  const fn = 'convTranspose2d';
  const options = withPositionalBias(fn, biasOrOptions, maybeOptions);
  const o = checkOptions(fn, options, ['bias', 'stride', 'padding', 'outputPadding', 'groups', 'dilation']);
  return native.convTranspose2d(
    input,
    weight,
    o.bias ?? undefined,
    intPair(fn, 'stride', o.stride ?? 1, 1),
    intPair(fn, 'padding', o.padding ?? 0, 0),
    intPair(fn, 'outputPadding', o.outputPadding ?? 0, 0),
    intPair(fn, 'groups', o.groups ?? 1, 1, 1)[0]!,
    intPair(fn, 'dilation', o.dilation ?? 1, 1),
  );
}

// --- pooling ---------------------------------------------------------------------------------------

/** Options of `maxPool2d`. */
export interface MaxPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: IntOrPair;
  /** Padding per side that never wins the maximum (default 0; at most half the window). */
  padding?: IntOrPair;
  /** The spacing of the window's elements (default 1). */
  dilation?: IntOrPair;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Also return the flat index of each maximum within its input plane (for max unpooling). */
  returnIndices?: boolean;
}
/** 2-d max pooling. With `returnIndices`, returns `{ values, indices }`. */
export function maxPool2d(input: Tensor, kernelSize: IntOrPair, options?: MaxPool2dOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(
  input: Tensor,
  kernelSize: IntOrPair,
  options: MaxPool2dOptions & { returnIndices: true },
): {
  /** The pooled maxima. */
  values: Tensor;
  /** Where each maximum came from: its flat index within its input plane, as int64. */
  indices: Tensor;
};
export function maxPool2d(input: Tensor, kernelSize: IntOrPair, options?: MaxPool2dOptions): Tensor | { values: Tensor; indices: Tensor } {
  const fn = 'maxPool2d';
  const o = checkOptions(fn, options, ['stride', 'padding', 'dilation', 'ceilMode', 'returnIndices']);
  const kernel = intPair(fn, 'kernelSize', kernelSize, 1);
  const args = [
    kernel,
    intPair(fn, 'stride', o.stride ?? kernel, 1),
    intPair(fn, 'padding', o.padding ?? 0, 0),
    intPair(fn, 'dilation', o.dilation ?? 1, 1),
    o.ceilMode ?? false,
  ] as const;
  if (!o.returnIndices) return native.maxPool2d(input, ...args);
  const [values, indices] = native.maxPool2dWithIndices(input, ...args);
  return { values, indices };
}

/** Options of `avgPool2d`. */
export interface AvgPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: IntOrPair;
  /** Zero padding per side (default 0; at most half the window). */
  padding?: IntOrPair;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in the average's divisor (default true). */
  countIncludePad?: boolean;
  /** Divide each window's sum by this instead of by its size. */
  divisorOverride?: number;
}
/** 2-d average pooling. */
export function avgPool2d(input: Tensor, kernelSize: IntOrPair, options?: AvgPool2dOptions): Tensor {
  const fn = 'avgPool2d';
  const o = checkOptions(fn, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const kernel = intPair(fn, 'kernelSize', kernelSize, 1);
  if (o.divisorOverride !== undefined) intPair(fn, 'divisorOverride', o.divisorOverride, 1, 1);
  return native.avgPool2d(
    input,
    kernel,
    intPair(fn, 'stride', o.stride ?? kernel, 1),
    intPair(fn, 'padding', o.padding ?? 0, 0),
    o.ceilMode ?? false,
    o.countIncludePad ?? true,
    o.divisorOverride,
  );
}
/** Average pooling to a fixed output size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: IntOrPair): Tensor {
  return native.adaptiveAvgPool2d(input, intPair('adaptiveAvgPool2d', 'outputSize', outputSize, 0));
}

// --- activations -----------------------------------------------------------------------------------

/** `max(0, input)`. */
export function relu(input: Tensor): Tensor {
  return native.relu(input);
}
/** In place `relu`. Returns `input`. */
export function relu_(input: Tensor): Tensor {
  native.relu_(input);
  return input;
}
/** `max(0, x) + negativeSlope * min(0, x)`. */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  return native.leakyRelu(input, negativeSlope);
}
/** `x` for x > 0, `alpha * (exp(x) - 1)` otherwise. */
export function elu(input: Tensor, alpha = 1): Tensor {
  return native.elu(input, alpha);
}
/** GELU, exact (`'none'`) or with the tanh approximation. */
export function gelu(input: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor {
  const { approximate = 'none' } = checkOptions('gelu', options, ['approximate']);
  return native.gelu(input, oneOf('gelu', 'approximate', approximate, ['none', 'tanh']));
}
/** `1 / (1 + exp(-input))`. */
export function sigmoid(input: Tensor): Tensor {
  return native.sigmoid(input);
}
/** Hyperbolic tangent. */
export function tanh(input: Tensor): Tensor {
  return native.tanh(input);
}
/** Soft-max along `dim`, computed in `dtype` when given. */
export function softmax(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  return native.softmax(input, dim, checkOptions('softmax', options, ['dtype']).dtype);
}
/** Logarithm of the soft-max along `dim`, computed stably. */
export function logSoftmax(input: Tensor, dim: number, options?: { dtype?: DType }): Tensor {
  return native.logSoftmax(input, dim, checkOptions('logSoftmax', options, ['dtype']).dtype);
}

/** Options of the dropouts. */
export interface DropoutOptions {
  /** Probability of zeroing an element (a channel for `dropout2d`); default 0.5. */
  p?: number;
  /** Only drops while training (default true, as in PyTorch's functional form). */
  training?: boolean;
}
/** Zeroes elements with probability p and scales the rest by 1 / (1 - p). */
export function dropout(input: Tensor, options?: DropoutOptions): Tensor {
  const { p = 0.5, training = true } = checkOptions('dropout', options, ['p', 'training']);
  return native.dropout(input, inRange('dropout', 'p', p, 0, 1), training);
}
/** Zeroes whole channels with probability p and scales the rest by 1 / (1 - p). */
export function dropout2d(input: Tensor, options?: DropoutOptions): Tensor {
  const { p = 0.5, training = true } = checkOptions('dropout2d', options, ['p', 'training']);
  return native.dropout2d(input, inRange('dropout2d', 'p', p, 0, 1), training);
}

// --- normalisation ---------------------------------------------------------------------------------

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** A scale per channel (none: 1). */
  weight?: Tensor | null;
  /** A shift per channel (none: 0). */
  bias?: Tensor | null;
  /** Use batch statistics and update the running ones (default false, as in PyTorch). */
  training?: boolean;
  /** The weight of the batch statistics in the running ones (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}
/** Batch normalisation; `runningMean`/`runningVar` are updated in place while training. */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options?: BatchNormOptions): Tensor {
  const o = checkOptions('batchNorm', options, ['weight', 'bias', 'training', 'momentum', 'eps']);
  return native.batchNorm(
    input,
    runningMean ?? undefined,
    runningVar ?? undefined,
    o.weight ?? undefined,
    o.bias ?? undefined,
    o.training ?? false,
    o.momentum ?? 0.1,
    o.eps ?? 1e-5,
  );
}

/** Options of `instanceNorm`. */
export interface InstanceNormOptions {
  /** Running means per channel, updated in place while `useInputStats`; used otherwise. */
  runningMean?: Tensor | null;
  /** Running variances per channel, updated and used as `runningMean`. */
  runningVar?: Tensor | null;
  /** A scale per channel (none: 1). */
  weight?: Tensor | null;
  /** A shift per channel (none: 0). */
  bias?: Tensor | null;
  /** Normalise with each instance's own statistics (default true). */
  useInputStats?: boolean;
  /** The weight of each step's statistics in the running ones (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}
/** Instance normalisation: each channel of each sample separately. */
export function instanceNorm(input: Tensor, options?: InstanceNormOptions): Tensor {
  const o = checkOptions('instanceNorm', options, ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps']);
  return native.instanceNorm(
    input,
    o.runningMean ?? undefined,
    o.runningVar ?? undefined,
    o.weight ?? undefined,
    o.bias ?? undefined,
    o.useInputStats ?? true,
    o.momentum ?? 0.1,
    o.eps ?? 1e-5,
  );
}

/** Options of `groupNorm` and `layerNorm`. */
export interface AffineNormOptions {
  /** A scale, elementwise (none: 1). */
  weight?: Tensor | null;
  /** A shift, elementwise (none: 0). */
  bias?: Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}
/** Group normalisation over `numGroups` groups of channels. */
export function groupNorm(input: Tensor, numGroups: number, options?: AffineNormOptions): Tensor {
  const o = checkOptions('groupNorm', options, ['weight', 'bias', 'eps']);
  intPair('groupNorm', 'numGroups', numGroups, 1, 1);
  return native.groupNorm(input, numGroups, o.weight ?? undefined, o.bias ?? undefined, o.eps ?? 1e-5);
}
/** Layer normalisation over the trailing dimensions `normalizedShape`. */
export function layerNorm(input: Tensor, normalizedShape: number[], options?: AffineNormOptions): Tensor {
  const o = checkOptions('layerNorm', options, ['weight', 'bias', 'eps']);
  return native.layerNorm(input, normalizedShape, o.weight ?? undefined, o.bias ?? undefined, o.eps ?? 1e-5);
}

// --- resampling ------------------------------------------------------------------------------------

/** Interpolation of `interpolate`. */
export type InterpolateMode = 'nearest' | 'bilinear' | 'bicubic';
/** Options of `interpolate`: exactly one of `size` and `scaleFactor`. */
export interface InterpolateOptions {
  /** The output's height and width, one or [height, width]. */
  size?: IntOrPair;
  /** The output's size over the input's, one or [height, width]. */
  scaleFactor?: number | [number, number];
  /** `'nearest'` (default), `'bilinear'` or `'bicubic'`. */
  mode?: InterpolateMode;
  /** For bilinear and bicubic: align the corner pixels' centres (default false). */
  alignCorners?: boolean;
}
/** Resizes the spatial dimensions of (N, C, H, W) input. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const fn = 'interpolate';
  const { size, scaleFactor, mode = 'nearest', alignCorners } = checkOptions(fn, options, ['size', 'scaleFactor', 'mode', 'alignCorners']);
  oneOf(fn, 'mode', mode, ['nearest', 'bilinear', 'bicubic']);
  if ((size === undefined) === (scaleFactor === undefined))
    throw new TypeError(`${fn}(): give exactly one of the options 'size' and 'scaleFactor'`);
  if (mode === 'nearest' && alignCorners !== undefined) {
    throw new TypeError(`${fn}(): option 'alignCorners' applies only to modes 'bilinear' and 'bicubic'`);
  }
  let scales: number[] | undefined;
  if (scaleFactor !== undefined) {
    scales = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : scaleFactor;
    if (scales.length !== 2 || scales.some((s) => !(s > 0)))
      throw new RangeError(`${fn}(): option 'scaleFactor' must be positive, got ${JSON.stringify(scaleFactor)}`);
  }
  const sizes = size === undefined ? undefined : intPair(fn, 'size', size, 1);
  return native.upsample(input, mode, sizes, scales, alignCorners ?? false);
}

/** Options of `gridSample`. */
export interface GridSampleOptions {
  /** `'bilinear'` (default), `'nearest'` or `'bicubic'`. */
  mode?: 'bilinear' | 'nearest' | 'bicubic';
  /** What points outside the input read: zeros, the border value, or the reflected image. */
  paddingMode?: 'zeros' | 'border' | 'reflection';
  /** −1 and 1 are the corner pixels' centres (true) or their outer edges (false, the default). */
  alignCorners?: boolean;
}
const GRID_MODES = ['bilinear', 'nearest', 'bicubic'] as const;
const GRID_PADDING = ['zeros', 'border', 'reflection'] as const;
/** Samples `input` (N, C, H, W) at the normalised [-1, 1] coordinates `grid` (N, Hout, Wout, 2). */
export function gridSample(input: Tensor, grid: Tensor, options?: GridSampleOptions): Tensor {
  const {
    mode = 'bilinear',
    paddingMode = 'zeros',
    alignCorners = false,
  } = checkOptions('gridSample', options, ['mode', 'paddingMode', 'alignCorners']);
  // ATen's integer codes for the modes are their positions in these lists.
  const modeCode = GRID_MODES.indexOf(oneOf('gridSample', 'mode', mode, GRID_MODES));
  const paddingCode = GRID_PADDING.indexOf(oneOf('gridSample', 'paddingMode', paddingMode, GRID_PADDING));
  return native.gridSample(input, grid, modeCode, paddingCode, alignCorners);
}
/** The sampling grid of the affine maps `theta` (N, 2, 3) for an output of `size` [N, C, H, W]. */
export function affineGrid(theta: Tensor, size: number[], options?: { alignCorners?: boolean }): Tensor {
  return native.affineGrid(theta, size, checkOptions('affineGrid', options, ['alignCorners']).alignCorners ?? false);
}
/** Class indices to one-hot vectors in a new last dimension (int64). */
export function oneHot(input: Tensor, numClasses = -1): Tensor {
  return native.oneHot(input, numClasses);
}

// --- losses ----------------------------------------------------------------------------------------

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** A weight per class. */
  weight?: Tensor | null;
  /** `'none'` gives the per-element losses, to weight pixel by pixel. */
  reduction?: Reduction;
  /** Targets with this class count neither in the loss nor in the mean. */
  ignoreIndex?: number;
  /** The share of each target spread evenly over all classes, in [0, 1] (default 0). */
  labelSmoothing?: number;
}
/** Soft-max cross-entropy of logits `input` (N, C, ...) against class indices or probabilities. */
export function crossEntropy(input: Tensor, target: Tensor, options?: CrossEntropyOptions): Tensor {
  const o = checkOptions('crossEntropy', options, ['weight', 'reduction', 'ignoreIndex', 'labelSmoothing']);
  return native.crossEntropy(
    input,
    target,
    o.weight ?? undefined,
    reductionCode('crossEntropy', o.reduction),
    o.ignoreIndex ?? -100,
    inRange('crossEntropy', 'labelSmoothing', o.labelSmoothing ?? 0, 0, 1),
  );
}
/** Options of `nllLoss`. */
export interface NllLossOptions {
  /** A weight per class. */
  weight?: Tensor | null;
  /** `'mean'` (default), `'sum'`, or `'none'` for the per-element losses. */
  reduction?: Reduction;
  /** Targets with this class count neither in the loss nor in the mean (default -100). */
  ignoreIndex?: number;
}
/** Negative log-likelihood of log-probabilities `input` (N, C, ...) at the target classes. */
export function nllLoss(input: Tensor, target: Tensor, options?: NllLossOptions): Tensor {
  const o = checkOptions('nllLoss', options, ['weight', 'reduction', 'ignoreIndex']);
  return native.nllLoss(input, target, o.weight ?? undefined, reductionCode('nllLoss', o.reduction), o.ignoreIndex ?? -100);
}
/** Options of `binaryCrossEntropyWithLogits`. */
export interface BceWithLogitsOptions {
  /** A weight per element, broadcast to the input. */
  weight?: Tensor | null;
  /** Weight of positive examples, per class. */
  posWeight?: Tensor | null;
  /** `'mean'` (default), `'sum'`, or `'none'` for the per-element losses. */
  reduction?: Reduction;
}
/** Sigmoid plus binary cross-entropy, computed stably. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options?: BceWithLogitsOptions): Tensor {
  const o = checkOptions('binaryCrossEntropyWithLogits', options, ['weight', 'posWeight', 'reduction']);
  return native.binaryCrossEntropyWithLogits(
    input,
    target,
    o.weight ?? undefined,
    o.posWeight ?? undefined,
    reductionCode('binaryCrossEntropyWithLogits', o.reduction),
  );
}
/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, options?: { reduction?: Reduction }): Tensor {
  return native.mseLoss(input, target, reductionCode('mseLoss', checkOptions('mseLoss', options, ['reduction']).reduction));
}
/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, options?: { reduction?: Reduction }): Tensor {
  return native.l1Loss(input, target, reductionCode('l1Loss', checkOptions('l1Loss', options, ['reduction']).reduction));
}
