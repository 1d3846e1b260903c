// Normalisation layers, with PyTorch's parameters, buffers, defaults and running-statistics rules.
import { full, ones, tensor as makeTensor, zeros } from '../../creation';
import { noGrad } from '../../autograd';
import { defaultProcessGroup, differentiableAllReduce, type ProcessGroup, processGroupOf } from '../../distributed';
import { cat } from '../../ops/join';
import type { Tensor } from '../../tensor';
import * as F from '../functional';
import { Module } from '../module';
import { arrayArg, positiveIntegerArg } from '../../check';
import { checkOptions } from '../../ops/options';

/** Options of `BatchNorm2d`, `SyncBatchNorm` and `InstanceNorm2d`. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: a cumulative average (`InstanceNorm2d`: no update, as PyTorch's). */
  momentum?: number | null;
  /** Learn a scale and shift (default true; false for `InstanceNorm2d`). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true; false for `InstanceNorm2d`). */
  trackRunningStats?: boolean;
  /** The parameters' and statistics' type (default float32). */
  dtype?: 'float32' | 'float64';
  /** Their device (default `'cpu'`). */
  device?: string;
}

/** Batch normalisation over (N, C, H, W): `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`. */
export class BatchNorm2d extends Module {
  /** The scale per channel, or null with `affine: false`. */
  readonly weight: Tensor | null;
  /** The shift per channel, or null with `affine: false`. */
  readonly bias: Tensor | null;
  /** The running mean per channel (`running_mean`), or null with `trackRunningStats: false`. */
  readonly runningMean: Tensor | null;
  /** The running unbiased variance per channel (`running_var`), or null as `runningMean`. */
  readonly runningVar: Tensor | null;
  /** The training batches seen (`num_batches_tracked`, int64), or null as `runningMean`. */
  readonly numBatchesTracked: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  /** The weight of each batch in the running statistics; null: a cumulative average. */
  readonly momentum: number | null;

  /**
   * Batch normalisation of `numFeatures` channels, with a scale of 1, a shift of 0 and fresh running statistics.
   * @param numFeatures The input's channels (C of (N, C, H, W)).
   * @param options Eps, momentum, affine parameters, running statistics, type and device.
   */
  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    options = checkOptions('BatchNorm2d', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype', 'device']);
    positiveIntegerArg('BatchNorm2d', 'numFeatures', numFeatures);
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
    if (useBatchStats && this.processGroup !== null && this.processGroup.size > 1)
      return this.forwardAcross(input, this.processGroup, averageFactor);
    const trackNow = !this.training || this.runningMean !== null;
    return F.batchNorm(input, trackNow ? this.runningMean : null, trackNow ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: averageFactor,
      eps: this.eps,
    });
  }

  /**
   * When set, training normalises with the statistics of the whole batch across this group's
   * ranks (see `SyncBatchNorm`).
   */
  processGroup: ProcessGroup | null = null;

  // Batch statistics over every rank's batch: the per-channel sums, sums of squares and counts are
  // summed over the ranks by a differentiable all-reduce, so that backward sums the gradients of
  // the statistics over the ranks as PyTorch's SyncBatchNorm does.
  private forwardAcross(input: Tensor, group: ProcessGroup, averageFactor: number): Tensor {
    const channels = this.numFeatures;
    const dims = [0, 2, 3];
    const local = cat([
      input.sum(dims),
      input.mul(input).sum(dims),
      full([1], input.numel() / channels, { dtype: input.dtype, device: input.device }),
    ]);
    const total = differentiableAllReduce(local, { group });
    const count = total.narrow(0, 2 * channels, 1);
    const mean = total.narrow(0, 0, channels).div(count);
    const variance = total.narrow(0, channels, channels).div(count).sub(mean.mul(mean));
    if (this.runningMean !== null && this.runningVar !== null) {
      const n = count.item() as number;
      noGrad(() => {
        this.runningMean!.mul_(1 - averageFactor).add_(mean.mul(averageFactor));
        this.runningVar!.mul_(1 - averageFactor).add_(variance.mul((averageFactor * n) / Math.max(n - 1, 1)));
      });
    }
    const shape = [1, channels, 1, 1];
    const normalised = input.sub(mean.view(shape)).mul(variance.add(this.eps).rsqrt().view(shape));
    return this.weight === null ? normalised : normalised.mul(this.weight.view(shape)).add(this.bias!.view(shape));
  }
}

/** Options of `SyncBatchNorm`. */
export interface SyncBatchNormOptions extends BatchNormOptions {
  /** The ranks whose batches are normalised together (the default group when training starts). */
  processGroup?: ProcessGroup;
}

/**
 * Batch normalisation with the statistics of the whole batch across ranks, as PyTorch's
 * `SyncBatchNorm`: with N ranks of batch B, training normalises as one process with batch N·B
 * would. Evaluation, and a single rank, are `BatchNorm2d`'s. Unlike PyTorch's (CUDA only), it runs
 * on CPU tensors too.
 */
export class SyncBatchNorm extends BatchNorm2d {
  /**
   * Batch normalisation whose training statistics are those of every rank's batch.
   * @param numFeatures The input's channels (C of (N, C, H, W)).
   * @param options `BatchNorm2d`'s options and the process group.
   */
  constructor(numFeatures: number, options: SyncBatchNormOptions = {}) {
    const { processGroup, ...rest } = checkOptions('SyncBatchNorm', options, [
      'eps',
      'momentum',
      'affine',
      'trackRunningStats',
      'dtype',
      'device',
      'processGroup',
    ]);
    super(numFeatures, rest);
    this.processGroup = processGroup ?? defaultProcessGroup();
  }

  /**
   * Makes every `BatchNorm2d` of `module` normalise across `processGroup`'s ranks (the default
   * group if not given); returns `module`. PyTorch's `convert_sync_batchnorm` replaces the layers;
   * here they keep their class, their tensors and their names.
   */
  static convertSyncBatchnorm<M extends Module>(module: M, processGroup?: ProcessGroup): M {
    return setBatchNormGroup(module, processGroupOf('SyncBatchNorm.convertSyncBatchnorm', processGroup));
  }

  /** Undoes `convertSyncBatchnorm`: every `BatchNorm2d` of `module` normalises with its own batch again. */
  static revertSyncBatchnorm<M extends Module>(module: M): M {
    return setBatchNormGroup(module, null);
  }
}

function setBatchNormGroup<M extends Module>(module: M, group: ProcessGroup | null): M {
  for (const layer of module.modules()) if (layer instanceof BatchNorm2d) layer.processGroup = group;
  return module;
}

/** Instance normalisation over (N, C, H, W); by default without affine parameters or running statistics. */
export class InstanceNorm2d extends Module {
  /** The scale per channel, or null without `affine: true`. */
  readonly weight: Tensor | null;
  /** The shift per channel, or null without `affine: true`. */
  readonly bias: Tensor | null;
  /** The running mean per channel, or null without `trackRunningStats: true`. */
  readonly runningMean: Tensor | null;
  /** The running unbiased variance per channel, or null as `runningMean`. */
  readonly runningVar: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  /** The weight of each step in the running statistics. */
  readonly momentum: number;

  /**
   * Instance normalisation of `numFeatures` channels, by default without parameters or running statistics.
   * @param numFeatures The input's channels (C of (N, C, H, W)).
   * @param options Eps, momentum, affine parameters, running statistics, type and device.
   */
  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    options = checkOptions('InstanceNorm2d', options, ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype', 'device']);
    positiveIntegerArg('InstanceNorm2d', 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    // PyTorch passes a momentum of null on as 0: the running statistics then stay as they are.
    this.momentum = options.momentum === null ? 0 : (options.momentum ?? 0.1);
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
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a scale and shift (default true). */
  affine?: boolean;
  /** The parameters' type (default float32). */
  dtype?: 'float32' | 'float64';
  /** Their device (default `'cpu'`). */
  device?: string;
}

/** Group normalisation: channels in `numGroups` groups, each normalised separately. */
export class GroupNorm extends Module {
  /** The scale per channel, or null with `affine: false`. */
  readonly weight: Tensor | null;
  /** The shift per channel, or null with `affine: false`. */
  readonly bias: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;

  /**
   * Group normalisation of `numChannels` channels in `numGroups` groups, with a scale of 1 and a shift of 0.
   * @param numGroups The groups the channels are split into.
   * @param numChannels The input's channels; they must divide by `numGroups`.
   * @param options Eps, affine parameters, type and device.
   */
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: AffineNormOptions = {},
  ) {
    super();
    options = checkOptions('GroupNorm', options, ['eps', 'affine', 'dtype', 'device']);
    positiveIntegerArg('GroupNorm', 'numGroups', numGroups);
    positiveIntegerArg('GroupNorm', 'numChannels', numChannels);
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
  /** The scale, elementwise over `normalizedShape`, or null with `affine: false`. */
  readonly weight: Tensor | null;
  /** The shift, as `weight`. */
  readonly bias: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  /** The trailing dimensions normalised together. */
  readonly normalizedShape: number[];

  /**
   * Layer normalisation over the trailing `normalizedShape`, with a scale of 1 and a shift of 0.
   * @param normalizedShape The trailing dimensions normalised together, one size or a shape.
   * @param options Eps, affine parameters, type and device.
   */
  constructor(normalizedShape: number | number[], options: AffineNormOptions = {}) {
    super();
    options = checkOptions('LayerNorm', options, ['eps', 'affine', 'dtype', 'device']);
    this.normalizedShape =
      typeof normalizedShape === 'number'
        ? [positiveIntegerArg('LayerNorm', 'normalizedShape', normalizedShape)]
        : arrayArg<number>('LayerNorm', 'normalizedShape', normalizedShape).map((size, dim) =>
            positiveIntegerArg('LayerNorm', `normalizedShape[${dim}]`, size),
          );
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
