// Stochastic gradient descent, step for step as PyTorch's single-tensor SGD.
import type { Tensor } from '../tensor';
import { type ParamGroupInput, type ParamGroup, type ParamState, Optimizer, withDefaults } from './optimizer';

/** SGD's hyperparameters (PyTorch's defaults). */
export interface SgdOptions {
  /** The learning rate. */
  lr: number;
  /** The momentum factor (0: none). */
  momentum: number;
  /** Each gradient enters the momentum buffer scaled by 1 − dampening. */
  dampening: number;
  /** The L2 penalty added to the gradient. */
  weightDecay: number;
  /** Nesterov momentum instead of heavy-ball (needs momentum and no dampening). */
  nesterov: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

const SGD_DEFAULTS: SgdOptions = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

/** SGD with optional momentum (heavy-ball or Nesterov), dampening and L2 weight decay. */
export class SGD extends Optimizer<SgdOptions> {
  /** SGD over `params` (tensors, or groups with options of their own). */
  constructor(params: Iterable<Tensor> | ParamGroupInput<SgdOptions>[], options: Partial<SgdOptions> = {}) {
    super(params, withDefaults('SGD', SGD_DEFAULTS, options));
    for (const group of this.paramGroups) {
      if (!(group.lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${group.lr}`);
      if (!(group.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${group.momentum}`);
      if (!(group.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay ${group.weightDecay}`);
      if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
        throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
      }
    }
  }

  protected initState(): ParamState {
    return { momentumBuffer: null };
  }

  protected update(parameter: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<SgdOptions>): void {
    let g = group.maximize ? grad.neg() : grad;
    if (group.weightDecay !== 0) g = g.add(parameter, group.weightDecay);
    if (group.momentum !== 0) {
      let buffer = state.momentumBuffer as Tensor | null;
      if (buffer === null) {
        buffer = g.detach().clone();
        this.setState(state, 'momentumBuffer', buffer);
      } else {
        buffer.mul_(group.momentum).add_(g, 1 - group.dampening);
      }
      g = group.nesterov ? g.add(buffer, group.momentum) : buffer;
    }
    parameter.add_(g, -group.lr);
  }
}
