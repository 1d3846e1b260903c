// torch.nn: modules, initialisation, functional operations and gradient utilities.
import { clipGradNorm_, clipGradValue_ } from '../optim/clip';
import * as functional from './functional';
import * as init from './init';

export { Module, StateDictError } from './module';
export type { LoadStateDictOptions, LoadStateDictResult, ModuleToOptions, StateDict } from './module';
export { Conv2d, ConvTranspose2d, Linear } from './modules/conv';
export type { Conv2dOptions, ConvTranspose2dOptions, LinearOptions } from './modules/conv';
export { BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, SyncBatchNorm } from './modules/norm';
export type { AffineNormOptions, BatchNormOptions, SyncBatchNormOptions } from './modules/norm';
export { AvgPool2d, Dropout, Dropout2d, GELU, Identity, LeakyReLU, MaxPool2d, ReLU, Sigmoid, Tanh, Upsample } from './modules/layers';
export { ModuleDict, ModuleList, Sequential } from './modules/container';
export { ScriptModule } from './script-module';
export type { ScriptLoadOptions } from './script-module';
export { functional, init };
/** torch.nn.parallel: `DistributedDataParallel`. */
export * as parallel from './parallel';
export type { DistributedDataParallelOptions } from './parallel';
/** torch.nn.utils: gradient clipping. */
export const utils = { clipGradNorm_, clipGradValue_ };
