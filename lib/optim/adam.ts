// Adam and AdamW, step for step as PyTorch's single-tensor implementation (the one it uses for
// CPU tensors), so that parameters match PyTorch's after any number of steps.
import { tensor as makeTensor, zerosLike } from '../creation';
import { pyPow } from '../runtime';
import type { Tensor } from '../tensor';
import { type ParamGroupInput, type ParamGroup, type ParamState, Optimizer, withDefaults } from './optimizer';

/** Adam's hyperparameters. */
export interface AdamOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rates of the gradient's running mean and of its square's. */
  betas: [number, number];
  /** Added to the denominator, for numerical stability. */
  eps: number;
  /** The weight decay: an L2 term (Adam) or a direct decay (AdamW). */
  weightDecay: number;
  /** Use the largest second moment seen so far (AMSGrad). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /** Decay the weights directly (AdamW) instead of adding an L2 term to the gradient (Adam). */
  decoupledWeightDecay: boolean;
}

const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
  decoupledWeightDecay: false,
};

/** Adam (Kingma & Ba); with `decoupledWeightDecay`, AdamW. */
export class Adam extends Optimizer<AdamOptions> {
  /** Adam over `params` (tensors, or groups with options of their own). */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    // Each optimizer gets betas of its own: a group's array changed in place must not change the defaults.
    super(params, withDefaults(new.target.name, { ...ADAM_DEFAULTS, betas: [...ADAM_DEFAULTS.betas] }, options));
    for (const group of this.paramGroups) {
      if (!(group.lr >= 0)) throw new RangeError(`${this.constructor.name}: invalid learning rate ${group.lr}`);
      if (!(group.eps >= 0)) throw new RangeError(`${this.constructor.name}: invalid eps ${group.eps}`);
      group.betas.forEach((beta, k) => {
        if (!(beta >= 0 && beta < 1)) throw new RangeError(`${this.constructor.name}: invalid beta at index ${k}: ${beta}`);
      });
      if (!(group.weightDecay >= 0)) throw new RangeError(`${this.constructor.name}: invalid weightDecay ${group.weightDecay}`);
    }
  }

  protected initState(parameter: Tensor, group: ParamGroup<AdamOptions>): ParamState {
    const state: ParamState = {
      step: makeTensor(0.0, { dtype: 'float32' }),
      expAvg: zerosLike(parameter),
      expAvgSq: zerosLike(parameter),
    };
    if (group.amsgrad) state.maxExpAvgSq = zerosLike(parameter);
    return state;
  }

  protected update(parameter: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamOptions>): void {
    const [beta1, beta2] = group.betas;
    const { lr, weightDecay, eps } = group;
    let g = group.maximize ? grad.neg() : grad;
    const stepCount = state.step as Tensor;
    stepCount.add_(1);
    if (weightDecay !== 0) {
      if (group.decoupledWeightDecay) parameter.mul_(1 - lr * weightDecay);
      else g = g.add(parameter, weightDecay);
    }
    const expAvg = state.expAvg as Tensor;
    const expAvgSq = state.expAvgSq as Tensor;
    expAvg.lerp_(g, 1 - beta1);
    expAvgSq.mul_(beta2).addcmul_(g, g, 1 - beta2);
    const step = stepCount.item() as number;
    const biasCorrection1 = 1 - pyPow(beta1, step);
    const biasCorrection2 = 1 - pyPow(beta2, step);
    const stepSize = lr / biasCorrection1;
    const biasCorrection2Sqrt = pyPow(biasCorrection2, 0.5);
    let second = expAvgSq;
    if (group.amsgrad) {
      second = state.maxExpAvgSq as Tensor;
      second.copy_(second.maximum(expAvgSq));
    }
    const denom = second.sqrt().div(biasCorrection2Sqrt).add_(eps);
    parameter.addcdiv_(expAvg, denom, -stepSize);
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, 1e-2 by default. */
export class AdamW extends Adam {
  /** AdamW over `params` (tensors, or groups with options of their own). */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: Partial<Omit<AdamOptions, 'decoupledWeightDecay'>> = {}) {
    super(params, { weightDecay: 1e-2, ...options, decoupledWeightDecay: true });
  }
}
