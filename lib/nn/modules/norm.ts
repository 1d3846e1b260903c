// Normalisation layers, with PyTorch's parameters, buffers, defaults and running-statistics rules.
import { ones, tensor as makeTensor, zeros } from '../../creation';
import { noGrad } from '../../autograd';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { describe } from '../../check';
import { checkOptions } from '../../ops/options';

/** Options of `BatchNorm2d`. */
export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: a cumulative average. */
  momentum?: number | null;
  /** Learn a scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
  dtype?: 'float32' | 'float64';
  device?: string;
}

/** Batch normalisation over (N, C, H, W): `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`. */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    options = checkOptions('BatchNorm2d', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype', 'device']);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const creation = { dtype: options.dtype, device: options.device };
    const affine = options.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures], creation) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures], creation) : null);
    const track = options.trackRunningStats ?? true;
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures], creation) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures], creation) : null);
    this.numBatchesTracked = this.registerBuffer(
      'num_batches_tracked',
      track ? makeTensor(0, { dtype: 'int64', device: options.device }) : null,
    );
  }

  forward(input: Tensor): Tensor {
    if (input.ndim !== 4) throw new RangeError(`BatchNorm2d: expected 4-d input (N, C, H, W), got ${input.ndim}-d`);
    let averageFactor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked !== null) {
      noGrad(() => this.numBatchesTracked!.add_(1));
      if (this.momentum === null) averageFactor = 1 / (this.numBatchesTracked.item() as number);
    }
    const useBatchStats = this.training || (this.runningMean === null && this.runningVar === null);
    const trackNow = !this.training || this.runningMean !== null;
    return F.batchNorm(input, trackNow ? this.runningMean : null, trackNow ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: averageFactor,
      eps: this.eps,
    });
  }
}

/** Instance normalisation over (N, C, H, W); by default without affine parameters or running statistics. */
export class InstanceNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    options = checkOptions('InstanceNorm2d', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype', 'device']);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const creation = { dtype: options.dtype, device: options.device };
    const affine = options.affine ?? false;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures], creation) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures], creation) : null);
    const track = options.trackRunningStats ?? false;
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures], creation) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures], creation) : null);
    this.registerBuffer('num_batches_tracked', track ? makeTensor(0, { dtype: 'int64', device: options.device }) : null);
  }

  forward(input: Tensor): Tensor {
    if (input.ndim !== 4) throw new RangeError(`InstanceNorm2d: expected 4-d input (N, C, H, W), got ${input.ndim}-d`);
    return F.instanceNorm(input, {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || this.runningMean === null,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

/** Options of `GroupNorm` and `LayerNorm`. */
export interface AffineNormOptions {
  eps?: number;
  /** Learn a scale and shift (default true). */
  affine?: boolean;
  dtype?: 'float32' | 'float64';
  device?: string;
}

/** Group normalisation: channels in `numGroups` groups, each normalised separately. */
export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: AffineNormOptions = {},
  ) {
    super();
    options = checkOptions('GroupNorm', options, ['eps', 'affine', 'dtype', 'device']);
    for (const [name, value] of [
      ['numGroups', numGroups],
      ['numChannels', numChannels],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new TypeError(`GroupNorm: argument '${name}' must be a positive integer, got ${describe(value)}`);
    }
    if (numChannels % numGroups !== 0)
      throw new RangeError(`GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    this.eps = options.eps ?? 1e-5;
    const creation = { dtype: options.dtype, device: options.device };
    const affine = options.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? ones([numChannels], creation) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numChannels], creation) : null);
  }

  forward(input: Tensor): Tensor {
    return F.groupNorm(input, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}

/** Layer normalisation over the trailing dimensions `normalizedShape`. */
export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | number[], options: AffineNormOptions = {}) {
    super();
    options = checkOptions('LayerNorm', options, ['eps', 'affine', 'dtype', 'device']);
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    this.eps = options.eps ?? 1e-5;
    const creation = { dtype: options.dtype, device: options.device };
    const affine = options.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? ones(this.normalizedShape, creation) : null);
    this.bias = this.registerParameter('bias', affine ? zeros(this.normalizedShape, creation) : null);
  }

  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}
