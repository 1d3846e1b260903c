// Convolution layers and Linear, initialised as PyTorch initialises them (kaiming_uniform_ with
// a = √5 for the weight, U(-1/√fanIn, 1/√fanIn) for the bias), in PyTorch's order.
import { empty } from '../../creation';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import * as init from '../init';
import { Module } from '../module';
import { positiveIntegerArg } from '../../check';
import { checkOptions, intPair, type IntOrPair } from '../../ops/options';

function pair(module: string, option: string, value: IntOrPair): [number, number] {
  return intPair(module, option, value, 0) as [number, number];
}

function resetParameters(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    if (fanIn !== 0) {
      const bound = 1 / Math.sqrt(fanIn);
      init.uniform_(bias, -bound, bound);
    }
  }
}

/** Options of `Conv2d`. */
export interface Conv2dOptions {
  /** The kernel's step, one or [height, width] (default 1). */
  stride?: IntOrPair;
  /** Padding per side, or `'valid'`/`'same'`. */
  padding?: IntOrPair | 'valid' | 'same';
  /** The spacing of the kernel's elements (default 1). */
  dilation?: IntOrPair;
  /** Channel groups convolved separately; both channel counts must divide by it (default 1). */
  groups?: number;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** What the padding holds: zeros (default), or the reflected, replicated or wrapped image. */
  paddingMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
  /** The parameters' type (default float32). */
  dtype?: 'float32' | 'float64';
  /** The parameters' device (default `'cpu'`). */
  device?: string;
}

/** 2-d convolution: weight (out, in / groups, kH, kW), bias (out). */
export class Conv2d extends Module {
  /** The kernels, (out, in / groups, kH, kW). */
  readonly weight: Tensor;
  /** A bias per output channel, or null with `bias: false`. */
  readonly bias: Tensor | null;
  /** The kernel's step, [height, width]. */
  readonly stride: [number, number];
  /** The zero padding per side, [height, width], or `'valid'`/`'same'`. */
  readonly padding: [number, number] | 'valid' | 'same';
  /** The spacing of the kernel's elements, [height, width]. */
  readonly dilation: [number, number];
  /** Channel groups convolved separately. */
  readonly groups: number;
  /** What the padding holds. */
  readonly paddingMode: NonNullable<Conv2dOptions['paddingMode']>;

  /**
   * A convolution with weights and bias drawn as PyTorch draws them.
   * @param inChannels The input's channels.
   * @param outChannels The output's channels.
   * @param kernelSize The kernel, one size or [height, width].
   * @param options Stride, padding, dilation, groups, bias, padding mode, type and device.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: IntOrPair,
    options: Conv2dOptions = {},
  ) {
    super();
    options = checkOptions('Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'dtype', 'device']);
    positiveIntegerArg('Conv2d', 'inChannels', inChannels);
    positiveIntegerArg('Conv2d', 'outChannels', outChannels);
    this.stride = pair('Conv2d', 'stride', options.stride ?? 1);
    this.padding = typeof options.padding === 'string' ? options.padding : pair('Conv2d', 'padding', options.padding ?? 0);
    this.dilation = pair('Conv2d', 'dilation', options.dilation ?? 1);
    this.groups = positiveIntegerArg('Conv2d', 'groups', options.groups ?? 1);
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new RangeError(
        `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`,
      );
    }
    const [kh, kw] = pair('Conv2d', 'kernelSize', kernelSize);
    const creation = { dtype: options.dtype, device: options.device };
    this.weight = this.registerParameter('weight', empty([outChannels, inChannels / this.groups, kh, kw], creation));
    this.bias = this.registerParameter('bias', options.bias === false ? null : empty([outChannels], creation));
    resetParameters(this.weight, this.bias);
  }

  forward(input: Tensor): Tensor {
    if (this.paddingMode !== 'zeros' && typeof this.padding !== 'string') {
      const [ph, pw] = this.padding;
      const padded = F.pad(input, [pw, pw, ph, ph], { mode: this.paddingMode });
      try {
        return F.conv2d(padded, this.weight, { bias: this.bias, stride: this.stride, dilation: this.dilation, groups: this.groups });
      } finally {
        padded.dispose();
      }
    }
    return F.conv2d(input, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/** Options of `ConvTranspose2d`. */
export interface ConvTranspose2dOptions {
  /** The step, one or [height, width]: the output is about stride times the input (default 1). */
  stride?: IntOrPair;
  /** Taken off each side of the output, as PyTorch's `padding` (default 0). */
  padding?: IntOrPair;
  /** Added to one side of the output, to reach a size a stride above 1 leaves open (default 0). */
  outputPadding?: IntOrPair;
  /** Channel groups convolved separately; both channel counts must divide by it (default 1). */
  groups?: number;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** The spacing of the kernel's elements (default 1). */
  dilation?: IntOrPair;
  /** The parameters' type (default float32). */
  dtype?: 'float32' | 'float64';
  /** The parameters' device (default `'cpu'`). */
  device?: string;
}

/** 2-d transposed convolution (the U-Net's "up-convolution"): weight (in, out / groups, kH, kW). */
export class ConvTranspose2d extends Module {
  /** The kernels, (in, out / groups, kH, kW). */
  readonly weight: Tensor;
  /** A bias per output channel, or null with `bias: false`. */
  readonly bias: Tensor | null;
  private readonly options: Required<Omit<ConvTranspose2dOptions, 'bias' | 'dtype' | 'device'>>;

  /**
   * A transposed convolution with weights and bias drawn as PyTorch draws them.
   * @param inChannels The input's channels.
   * @param outChannels The output's channels.
   * @param kernelSize The kernel, one size or [height, width].
   * @param options Stride, padding, output padding, groups, bias, dilation, type and device.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: IntOrPair,
    options: ConvTranspose2dOptions = {},
  ) {
    super();
    options = checkOptions('ConvTranspose2d', options, [
      'stride',
      'padding',
      'outputPadding',
      'groups',
      'bias',
      'dilation',
      'dtype',
      'device',
    ]);
    positiveIntegerArg('ConvTranspose2d', 'inChannels', inChannels);
    positiveIntegerArg('ConvTranspose2d', 'outChannels', outChannels);
    const groups = positiveIntegerArg('ConvTranspose2d', 'groups', options.groups ?? 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(
        `ConvTranspose2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`,
      );
    }
    this.options = {
      stride: options.stride ?? 1,
      padding: options.padding ?? 0,
      outputPadding: options.outputPadding ?? 0,
      groups,
      dilation: options.dilation ?? 1,
    };
    const [kh, kw] = pair('ConvTranspose2d', 'kernelSize', kernelSize);
    const creation = { dtype: options.dtype, device: options.device };
    this.weight = this.registerParameter('weight', empty([inChannels, outChannels / groups, kh, kw], creation));
    this.bias = this.registerParameter('bias', options.bias === false ? null : empty([outChannels], creation));
    resetParameters(this.weight, this.bias);
  }

  forward(input: Tensor): Tensor {
    return F.convTranspose2d(input, this.weight, { bias: this.bias, ...this.options });
  }
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn a bias per output feature (default true). */
  bias?: boolean;
  /** The parameters' type (default float32). */
  dtype?: 'float32' | 'float64';
  /** The parameters' device (default `'cpu'`). */
  device?: string;
}

/** `y = x Wᵀ + b`: weight (out, in), bias (out). */
export class Linear extends Module {
  /** The matrix W, (out, in). */
  readonly weight: Tensor;
  /** The bias b, (out), or null with `bias: false`. */
  readonly bias: Tensor | null;

  /**
   * A linear layer with weights and bias drawn as PyTorch draws them.
   * @param inFeatures The size of the input's last dimension.
   * @param outFeatures The size of the output's last dimension.
   * @param options Bias, type and device.
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    options = checkOptions('Linear', options, ['bias', 'dtype', 'device']);
    positiveIntegerArg('Linear', 'inFeatures', inFeatures);
    positiveIntegerArg('Linear', 'outFeatures', outFeatures);
    const creation = { dtype: options.dtype, device: options.device };
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures], creation));
    this.bias = this.registerParameter('bias', options.bias === false ? null : empty([outFeatures], creation));
    resetParameters(this.weight, this.bias);
  }

  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }
}
