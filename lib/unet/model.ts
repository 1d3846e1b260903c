// The U-Net of Ronneberger et al. 2015 on torch.nn modules, with the options later variants
// added. Parameter names equal the PyTorch reference's (reference/unet.py) state-dict keys:
// down.<level>.conv1.weight, up.<step>.upconv.weight, head.weight, …
import { noGrad } from '../autograd';
import { centreCrop } from '../ops/crop';
import { cat } from '../ops/join';
import * as nnInit from '../nn/init';
import { Module } from '../nn/module';
import { Conv2d, ConvTranspose2d } from '../nn/modules/conv';
import { Dropout, Identity, LeakyReLU, MaxPool2d, ReLU, Upsample } from '../nn/modules/layers';
import { BatchNorm2d, GroupNorm, InstanceNorm2d } from '../nn/modules/norm';
import { ModuleList } from '../nn/modules/container';
import type { Tensor } from '../tensor';
import { type SizeSpec, inputExtentFor, invalidExtentMessage, MAX_DEPTH, nearestValidExtents, outputExtent } from './size';
import { describe } from '../arguments';
import { tensorArg } from '../check';

/** The choices that make a U-Net. */
export interface UNetOptions {
  /** Channels of the input image (1 for gray, 3 for RGB). */
  inChannels: number;
  /** Output classes, background included (2: background and cells). */
  classes: number;
  /** Resolution levels; the paper has 5 (4 poolings). */
  depth: number;
  /** Channels of the first level, doubling per level; the paper has 64. */
  baseChannels: number;
  /** `valid`: unpadded 3×3 convolutions and centre-cropped skips (the paper); `same`: padded. */
  padding: 'valid' | 'same';
  /** `transposed`: the paper's 2×2 up-convolution; `bilinear`: bilinear ×2 then a 1×1 convolution. */
  upsampling: 'transposed' | 'bilinear';
  /** The normalisation after each convolution; the paper has none. */
  normalization: 'none' | 'batch' | 'instance' | 'group';
  /** Groups of group normalisation (the channel count must divide by it). */
  groups: number;
  /** The activation after each convolution; the paper's is ReLU. */
  activation: 'relu' | 'leakyRelu';
  /** Negative slope of the leaky ReLU. */
  negativeSlope: number;
  /** Drop-out probability at the end of the contracting path (0: none). */
  dropout: number;
  /** `paper`: N(0, 2/N) weights with N the fan-in and zero biases; `pytorch`: the modules' own defaults. */
  init: 'paper' | 'pytorch';
}

/** The normalisation after a convolution: batch, instance, group or none (Identity). */
export type NormLayer = BatchNorm2d | InstanceNorm2d | GroupNorm | Identity;

/** Two 3×3 convolutions, each followed by normalisation (optional) and the activation. */
export class DoubleConv extends Module {
  /** The first 3 × 3 convolution. */
  readonly conv1: Conv2d;
  /** The normalisation after it (Identity for none). */
  readonly norm1: NormLayer;
  /** The second 3 × 3 convolution. */
  readonly conv2: Conv2d;
  /** The normalisation after it (Identity for none). */
  readonly norm2: NormLayer;
  private readonly activation: ReLU | LeakyReLU;

  /** Two 3 × 3 convolutions from `inChannels` to `outChannels`, each with the normalisation and activation of `options`. */
  constructor(inChannels: number, outChannels: number, options: UNetOptions) {
    super();
    const conv = (input: number): Conv2d =>
      new Conv2d(input, outChannels, 3, { padding: options.padding === 'same' ? 1 : 0, bias: options.normalization === 'none' });
    const norm = (): NormLayer => {
      switch (options.normalization) {
        case 'batch':
          return new BatchNorm2d(outChannels);
        case 'instance':
          return new InstanceNorm2d(outChannels, { affine: true });
        case 'group':
          return new GroupNorm(options.groups, outChannels);
        default:
          return new Identity();
      }
    };
    this.conv1 = this.registerModule('conv1', conv(inChannels));
    this.norm1 = this.registerModule('norm1', norm());
    this.conv2 = this.registerModule('conv2', conv(outChannels));
    this.norm2 = this.registerModule('norm2', norm());
    this.activation = options.activation === 'leakyRelu' ? new LeakyReLU(options.negativeSlope) : new ReLU();
  }

  forward(input: Tensor): Tensor {
    const first = this.stage(input, this.conv1, this.norm1);
    try {
      return this.stage(first, this.conv2, this.norm2);
    } finally {
      first.dispose();
    }
  }

  // conv → norm → activation, releasing each intermediate handle as soon as the next exists
  // (autograd keeps what backward needs), so that inference holds one level's maps at a time.
  private stage(input: Tensor, conv: Conv2d, norm: NormLayer): Tensor {
    let x = conv.forward(input);
    if (!(norm instanceof Identity)) x = replace(x, norm.forward(x));
    return replace(x, this.activation.forward(x));
  }
}

function replace(previous: Tensor, next: Tensor): Tensor {
  if (next !== previous) previous.dispose();
  return next;
}

/** One step of the expansive path: up-sample, concatenate the (cropped) skip, two convolutions. */
export class UpStep extends Module {
  /** The 2 × 2 up-convolution, or the 1 × 1 convolution after bilinear up-sampling. */
  readonly upconv: ConvTranspose2d | Conv2d;
  /** The two convolutions over the up-sampled map joined with the skip connection. */
  readonly conv: DoubleConv;
  private readonly upsample: Upsample | null;

  /** An up-sampling from `inChannels` to `outChannels` and the two convolutions after the skip is joined. */
  constructor(inChannels: number, outChannels: number, options: UNetOptions) {
    super();
    if (options.upsampling === 'transposed') {
      this.upsample = null;
      this.upconv = this.registerModule('upconv', new ConvTranspose2d(inChannels, outChannels, 2, { stride: 2 }));
    } else {
      this.upsample = new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false });
      this.upconv = this.registerModule('upconv', new Conv2d(inChannels, outChannels, 1));
    }
    this.conv = this.registerModule('conv', new DoubleConv(2 * outChannels, outChannels, options));
  }

  forward(input: Tensor, skip: Tensor): Tensor {
    let up: Tensor;
    if (this.upsample === null) {
      up = this.upconv.forward(input);
    } else {
      const resized = this.upsample.forward(input);
      up = this.upconv.forward(resized);
      resized.dispose();
    }
    const cropped = centreCrop(skip, up.shape[2]!, up.shape[3]!);
    const joined = cat([cropped, up], 1);
    if (cropped !== skip) cropped.dispose();
    up.dispose();
    try {
      return this.conv.forward(joined);
    } finally {
      joined.dispose();
    }
  }
}

/**
 * The U-Net: a contracting path of `depth` levels (two 3×3 convolutions each, 2×2 max pooling
 * between levels, channels doubling), drop-out at its end, an expansive path of up-convolutions
 * with concatenated skips, and a 1×1 convolution to the classes. `forward` takes (N, C, H, W)
 * and returns class scores (logits) of size `outputSize(H) × outputSize(W)`.
 */
export class UNet extends Module {
  /** The options it was built with. */
  readonly options: UNetOptions;
  /** The contracting path: one `DoubleConv` per level, from the input's. */
  readonly down: ModuleList;
  /** The expanding path: one `UpStep` per level below the top, from the deepest. */
  readonly up: ModuleList;
  /** The final 1 × 1 convolution to the class scores. */
  readonly head: Conv2d;
  private readonly pool = new MaxPool2d(2);
  private readonly dropoutLayer: Dropout | null;

  /** The network `options` describe, initialised as `options.init` says (the paper's by default in the presets). */
  constructor(options: UNetOptions) {
    super();
    validateOptions(options);
    this.options = { ...options };
    const channels = Array.from({ length: options.depth }, (_, level) => options.baseChannels * 2 ** level);
    this.down = this.registerModule(
      'down',
      new ModuleList(channels.map((out, level) => new DoubleConv(level === 0 ? options.inChannels : channels[level - 1]!, out, options))),
    );
    this.up = this.registerModule(
      'up',
      new ModuleList(
        channels
          .slice(0, -1)
          .reverse()
          .map((out) => new UpStep(out * 2, out, options)),
      ),
    );
    this.head = this.registerModule('head', new Conv2d(options.baseChannels, options.classes, 1));
    this.dropoutLayer = options.dropout > 0 ? this.registerModule('dropout', new Dropout(options.dropout)) : null;
    if (options.init === 'paper') this.paperInit();
  }

  /** The paper's initialisation, in registration order: weights N(0, 2/N), N = incoming connections of one unit; biases 0. */
  private paperInit(): void {
    noGrad(() => {
      for (const module of this.modules()) {
        if (module instanceof Conv2d || module instanceof ConvTranspose2d) {
          const [kh, kw] = module.weight.shape.slice(2) as [number, number];
          // A stride-2 2×2 up-convolution feeds each output pixel from one tap per input channel.
          const fanIn = module instanceof ConvTranspose2d ? module.inChannels : module.inChannels * kh * kw;
          nnInit.normal_(module.weight, 0, Math.sqrt(2 / fanIn));
          if (module.bias !== null) nnInit.zeros_(module.bias);
        }
      }
    });
  }

  /** The parts of the architecture that fix which tile sizes fit and what comes out (lib/unet/size). */
  get sizeSpec(): SizeSpec {
    return { depth: this.options.depth, padding: this.options.padding };
  }

  /** Output extent for an input extent (one side); throws a RangeError naming the nearest valid sizes. */
  outputSize(input: number): number {
    const output = outputExtent(input, this.sizeSpec);
    if (output === null) throw new RangeError(`UNet: ${invalidExtentMessage(input, this.sizeSpec)}`);
    return output;
  }
  /** The smallest valid input extent whose output is at least `output`. */
  inputSizeFor(output: number): number {
    return inputExtentFor(output, this.sizeSpec);
  }
  /** Whether `input` is a valid extent for this network. */
  isValidInputSize(input: number): boolean {
    return outputExtent(input, this.sizeSpec) !== null;
  }
  /**
   * The tile extent training and prediction use unless told otherwise: the paper's 572 for its
   * depth, else one with at least a 256-pixel output.
   */
  get defaultTileSize(): number {
    return this.options.padding === 'valid' && this.options.depth === 5 ? 572 : this.inputSizeFor(256);
  }
  /**
   * The largest valid input extent at most three quarters of `input` (a tile with about half the
   * memory), or null if there is none: what to try when a tile does not fit in memory.
   */
  smallerInputSize(input: number): number | null {
    if (typeof input !== 'number' || !(input > 0))
      throw new RangeError(`UNet.smallerInputSize(): argument 'input' must be a positive number, got ${String(input)}`);
    return nearestValidExtents(Math.floor(input * 0.75), this.sizeSpec).below;
  }
  /** Pixels lost at each side of a tile (0 with same padding). */
  marginFor(input: number): number {
    return (input - this.outputSize(input)) / 2;
  }

  forward(input: Tensor): Tensor {
    tensorArg('UNet.forward', 'input', input);
    if (input.ndim !== 4) throw new RangeError(`UNet: expected input (N, C, H, W), got shape [${input.shape}]`);
    const [, channels, height, width] = input.shape as [number, number, number, number];
    if (channels !== this.options.inChannels)
      throw new RangeError(`UNet: expected ${this.options.inChannels} input channel(s), got ${channels}`);
    this.outputSize(height);
    this.outputSize(width);
    const skips: Tensor[] = [];
    let x = input;
    const levels = [...this.down] as DoubleConv[];
    levels.forEach((level, index) => {
      const features = level.forward(x);
      if (x !== input) x.dispose();
      if (index < levels.length - 1) {
        skips.push(features);
        x = this.pool.forward(features);
      } else {
        x = this.dropoutLayer === null ? features : replace(features, this.dropoutLayer.forward(features));
      }
    });
    for (const step of this.up as Iterable<UpStep>) {
      const skip = skips.pop()!;
      const next = step.forward(x, skip);
      x.dispose();
      skip.dispose();
      x = next;
    }
    const logits = this.head.forward(x);
    x.dispose();
    return logits;
  }
}

function validateOptions(o: UNetOptions): void {
  const positive = (name: keyof UNetOptions, value: number): void => {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`UNet: option '${name}' must be a positive integer, got ${String(value)}`);
  };
  positive('inChannels', o.inChannels);
  positive('classes', o.classes);
  positive('depth', o.depth);
  if (o.depth > MAX_DEPTH) throw new RangeError(`UNet: option 'depth' must be at most ${MAX_DEPTH}, got ${o.depth}`);
  positive('baseChannels', o.baseChannels);
  const choice = <K extends keyof UNetOptions>(name: K, allowed: readonly UNetOptions[K][]): void => {
    if (!allowed.includes(o[name]))
      throw new TypeError(
        `UNet: option '${name}' must be one of ${allowed.map((a) => `'${String(a)}'`).join(', ')}, got '${String(o[name])}'`,
      );
  };
  choice('padding', ['valid', 'same']);
  choice('upsampling', ['transposed', 'bilinear']);
  choice('normalization', ['none', 'batch', 'instance', 'group']);
  choice('activation', ['relu', 'leakyRelu']);
  choice('init', ['paper', 'pytorch']);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new RangeError(`UNet: option 'dropout' must be in [0, 1), got ${o.dropout}`);
  if (o.normalization === 'group' && o.baseChannels % o.groups !== 0) {
    throw new RangeError(`UNet: group normalisation needs baseChannels (${o.baseChannels}) divisible by groups (${o.groups})`);
  }
}

/**
 * `value` when it is a UNet; a TypeError naming `fn` and `what` (`argument 'model'`, `option
 * 'model'`) otherwise.
 */
export function unetArg(fn: string, what: string, value: unknown): UNet {
  if (!(value instanceof UNet)) throw new TypeError(`${fn}(): ${what} must be a UNet, got ${describe(value)}`);
  return value;
}
