// Parameter-free layers: activations, pooling, dropout, resampling and Identity, each the module
// form of a torch.nn.functional call.
import type { IntOrPair } from '../../ops/options';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';

export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }
}
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }
}
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}
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

export class MaxPool2d extends Module {
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
export class AvgPool2d extends Module {
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
  constructor(readonly p = 0.5) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.dropout(input, { p: this.p, training: this.training });
  }
}
/** Zeroes whole channels with probability `p` while training. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.dropout2d(input, { p: this.p, training: this.training });
  }
}

/** Resizes the spatial dimensions (`F.interpolate`). */
export class Upsample extends Module {
  constructor(readonly options: F.InterpolateOptions) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.interpolate(input, this.options);
  }
}
