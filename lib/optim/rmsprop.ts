// RMSprop, step for step as PyTorch's single-tensor implementation.
import { tensor as makeTensor, zerosLike } from '../creation';
import type { Tensor } from '../tensor';
import { type ParamGroupInput, type ParamGroup, type ParamState, Optimizer, withDefaults } from './optimizer';

/** RMSprop's hyperparameters. */
export interface RmspropOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rate of the squared gradient's running mean. */
  alpha: number;
  /** Added to the denominator, for numerical stability. */
  eps: number;
  /** The L2 penalty added to the gradient. */
  weightDecay: number;
  /** The momentum factor (0: none). */
  momentum: number;
  /** Normalise by the variance estimate instead of the raw second moment. */
  centered: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

const RMSPROP_DEFAULTS: RmspropOptions = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};

/** RMSprop with optional momentum and centring, step for step as PyTorch's. */
export class RMSprop extends Optimizer<RmspropOptions> {
  /** RMSprop over `params` (tensors, or groups with options of their own). */
  constructor(params: Iterable<Tensor> | ParamGroupInput<RmspropOptions>[], options: Partial<RmspropOptions> = {}) {
    super(params, withDefaults('RMSprop', RMSPROP_DEFAULTS, options));
    for (const group of this.paramGroups) {
      if (!(group.lr >= 0)) throw new RangeError(`RMSprop: invalid learning rate ${group.lr}`);
      if (!(group.alpha >= 0)) throw new RangeError(`RMSprop: invalid alpha ${group.alpha}`);
      if (!(group.momentum >= 0)) throw new RangeError(`RMSprop: invalid momentum ${group.momentum}`);
    }
  }

  protected initState(parameter: Tensor, group: ParamGroup<RmspropOptions>): ParamState {
    const state: ParamState = { step: makeTensor(0.0, { dtype: 'float32' }), squareAvg: zerosLike(parameter) };
    if (group.momentum > 0) state.momentumBuffer = zerosLike(parameter);
    if (group.centered) state.gradAvg = zerosLike(parameter);
    return state;
  }

  protected update(parameter: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<RmspropOptions>): void {
    let g = group.maximize ? grad.neg() : grad;
    (state.step as Tensor).add_(1);
    if (group.weightDecay !== 0) g = g.add(parameter, group.weightDecay);
    const squareAvg = (state.squareAvg as Tensor).mul_(group.alpha).addcmul_(g, g, 1 - group.alpha);
    let avg: Tensor;
    if (group.centered) {
      const gradAvg = (state.gradAvg as Tensor).lerp_(g, 1 - group.alpha);
      avg = squareAvg.addcmul(gradAvg, gradAvg, -1).sqrt_();
    } else {
      avg = squareAvg.sqrt();
    }
    avg = avg.add_(group.eps);
    if (group.momentum > 0) {
      const buffer = (state.momentumBuffer as Tensor).mul_(group.momentum).addcdiv_(g, avg);
      parameter.add_(buffer, -group.lr);
    } else {
      parameter.addcdiv_(g, avg, -group.lr);
    }
  }
}
