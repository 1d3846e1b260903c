// torch.optim: optimizers and learning-rate schedulers.
import * as lrScheduler from './lr-scheduler';

export { Optimizer } from './optimizer';
export type { OptimizerStateDict, ParamGroup, ParamGroupInput, ParamState } from './optimizer';
export { SGD } from './sgd';
export type { SgdOptions } from './sgd';
export { Adam, AdamW } from './adam';
export type { AdamOptions } from './adam';
export { RMSprop } from './rmsprop';
export type { RmspropOptions } from './rmsprop';
export type { ClipGradNormOptions } from './clip';
export { lrScheduler };
