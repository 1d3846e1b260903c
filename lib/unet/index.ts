// The U-Net: the model, its presets and its size arithmetic.
export { centreCrop } from '../ops/crop';
export { DoubleConv, UNet, UpStep } from './model';
export type { NormLayer } from './model';
export type { UNetOptions } from './model';
export { PRESETS, createUNet, presetOptions } from './presets';
export type { PresetName } from './presets';
export { extentRule, inputExtentFor, invalidExtentMessage, isValidExtent, nearestValidExtents, outputExtent } from './size';
export type { SizeSpec } from './size';
export type { ExtentRule } from '../raster/tile-rule';
export { defaultDescription, loadTrainedModel, readModelDescription, saveModelConfig, saveModelDescription } from './model-files';
export type { ModelDescription, OutputKind, PostprocessOptions, TrainedModel, Watershed } from './model-files';
export { loadPretrained, PRETRAINED, pretrainedFolder, resolveModel } from './pretrained';
export type { PretrainedName } from './pretrained';
