// Parameter-free layers: activations, pooling, dropout, resampling and Identity, each the module
// form of a torch.nn.functional call.
import type { IntOrPair } from '../../ops/options';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';

/** `max(0, x)`, elementwise (`F.relu`). */
export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}
/** `max(0, x) + negativeSlope · min(0, x)`, elementwise (`F.leakyRelu`). */
export class LeakyReLU extends Module {
  /**
   * A leaky ReLU with the given slope below 0.
   * @param negativeSlope The slope for negative inputs (default 0.01).
   */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }
}
/** The Gaussian error linear unit `x · Φ(x)`, elementwise (`F.gelu`). */
export class GELU extends Module {
  /**
   * A GELU, exact or approximated.
   * @param approximate `'none'` (default): the exact Φ; `'tanh'`: its tanh approximation.
   */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }
}
/** `1 / (1 + exp(−x))`, elementwise. */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}
/** The hyperbolic tangent, elementwise. */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}
/** Passes its input through (a placeholder, e.g. for "no normalisation"). */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** 2-d max pooling over (N, C, H, W) input (`F.maxPool2d`); the U-Net's 2 × 2 down-sampling. */
export class MaxPool2d extends Module {
  /**
   * Max pooling over windows of `kernelSize`.
   * @param kernelSize The window, one size or [height, width].
   * @param options Its stride (default: the window), padding, dilation and ceil mode.
   */
  constructor(
    readonly kernelSize: IntOrPair,
    readonly options: Omit<F.MaxPool2dOptions, 'returnIndices'> = {},
  ) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.maxPool2d(input, this.kernelSize, this.options);
  }
}
/** 2-d average pooling over (N, C, H, W) input (`F.avgPool2d`). */
export class AvgPool2d extends Module {
  /**
   * Average pooling over windows of `kernelSize`.
   * @param kernelSize The window, one size or [height, width].
   * @param options Its stride (default: the window), padding, ceil mode and divisor.
   */
  constructor(
    readonly kernelSize: IntOrPair,
    readonly options: F.AvgPool2dOptions = {},
  ) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, this.options);
  }
}

/** Zeroes elements with probability `p` while training (scaling the rest by 1 / (1 - p)). */
export class Dropout extends Module {
  /**
   * Drop-out of single elements with probability `p`.
   * @param p The probability that an element is zeroed (default 0.5).
   */
  constructor(readonly p = 0.5) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.dropout(input, { p: this.p, training: this.training });
  }
}
/** Zeroes whole channels with probability `p` while training. */
export class Dropout2d extends Module {
  /**
   * Drop-out of whole channels with probability `p`.
   * @param p The probability that a channel is zeroed (default 0.5).
   */
  constructor(readonly p = 0.5) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.dropout2d(input, { p: this.p, training: this.training });
  }
}

/** Resizes the spatial dimensions (`F.interpolate`). */
export class Upsample extends Module {
  /**
   * Resizing to a size or by a factor.
   * @param options The output size or the scale factor, and the mode.
   */
  constructor(readonly options: F.InterpolateOptions) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.interpolate(input, this.options);
  }
}
